//! Drives a client and a server connection against each other in memory and prints every
//! frame that passes between them.
//!
//! ```text
//! cargo run --example in_memory
//! ```

use wsproto::{CloseCode, CloseFrame, Config, Connection, MessageAssembler, MessageKind, Role, TransportAction};

fn main() {
    let mut client = Connection::new(Role::Client, Config::new());
    let mut server = Connection::new(Role::Server, Config::new().max_outgoing_frame(8));
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();

    client.send_text("Hello, server", &mut to_server).unwrap();
    client.send_fragment(MessageKind::Binary, &[1, 2, 3], false, &mut to_server).unwrap();
    client.ping(b"are you there?", &mut to_server).unwrap();
    client.send_fragment(MessageKind::Binary, &[4, 5], true, &mut to_server).unwrap();
    show("client -> server", &to_server);

    // The server echoes every message (its frames are at most 8 bytes, so long ones are split).
    let mut assembler = MessageAssembler::new();
    let mut pos = 0;
    loop {
        let r = server.receive(&mut to_server[pos..]).unwrap();
        pos += r.consumed;
        let Some(event) = r.event else { break };
        println!("server got {event:?}");
        if let Some(message) = assembler.push(event).unwrap() {
            match message {
                wsproto::Message::Text(t) => server.send_text(t, &mut to_client).unwrap(),
                wsproto::Message::Binary(b) => server.send_binary(b, &mut to_client).unwrap(),
                _ => {}
            }
        }
    }
    server.poll_transmit(&mut to_client).unwrap(); // nothing left: sends already wrote the Pong
    server.close(CloseFrame::new(CloseCode::NORMAL, "done"), &mut to_client).unwrap();
    show("server -> client", &to_client);

    let mut assembler = MessageAssembler::new();
    let mut pos = 0;
    loop {
        let r = client.receive(&mut to_client[pos..]).unwrap();
        pos += r.consumed;
        let Some(event) = r.event else { break };
        if let Some(message) = assembler.push(event).unwrap() {
            println!("client got {message:?}");
        }
    }
    let mut reply = Vec::new();
    client.poll_transmit(&mut reply).unwrap(); // the automatic Close reply
    show("client -> server", &reply);
    let mut pos = 0;
    while let Some(event) = {
        let r = server.receive(&mut reply[pos..]).unwrap();
        pos += r.consumed;
        r.event
    } {
        println!("server got {event:?}");
    }
    println!("server: {:?}, transport: {:?}", server.state(), server.transport_action());
    println!("client: {:?}, transport: {:?}", client.state(), client.transport_action());
    assert_eq!(server.transport_action(), TransportAction::Close);
    assert_eq!(client.transport_action(), TransportAction::AwaitPeerClose);
}

fn show(direction: &str, bytes: &[u8]) {
    println!("{direction}: {} bytes", bytes.len());
    for line in bytes.chunks(24) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        println!("    {}", hex.join(" "));
    }
}
