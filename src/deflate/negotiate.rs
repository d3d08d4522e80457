//! Negotiating permessage-deflate parameters (RFC 7692 §7.1).

use alloc::string::ToString;

use crate::handshake::{ExtensionOffer, HandshakeError};

/// The extension's registered name.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// How this endpoint offers (client) or accepts (server) permessage-deflate, and how it
/// compresses.
///
/// ```
/// use wsproto::deflate::DeflateConfig;
/// let config = DeflateConfig::new().client_no_context_takeover(true).server_max_window_bits(Some(12));
/// assert_eq!(config.offer().to_string(), "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// zlib compression level, 0 (store) to 9 (smallest). Default 1: fast, and most of the gain
    /// for the short, repetitive messages WebSockets carry.
    pub level: u32,
    /// Whole messages shorter than this are sent uncompressed. Default 64 bytes.
    pub min_size: usize,
    /// Ask (client) or require (server) that the server resets its compression context after
    /// each message: less memory held between messages, worse ratio. Default off.
    pub server_no_context_takeover: bool,
    /// Ask (client) or require (server) that the client resets its compression context after
    /// each message. Default off.
    pub client_no_context_takeover: bool,
    /// The largest window (9–15 bits) the server may compress with; `None` leaves it at 15.
    pub server_max_window_bits: Option<u8>,
    /// The largest window (9–15 bits) the client may compress with; `None` leaves it at 15. A
    /// client always offers `client_max_window_bits` (without a value) so that a server may
    /// limit it.
    pub client_max_window_bits: Option<u8>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DeflateConfig {
    /// Level 1, `min_size` 64, context takeover on both sides, 15-bit windows: what browsers,
    /// Python `websockets` and Node `ws` accept.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            level: 1,
            min_size: 64,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }

    /// A configuration that keeps little memory per connection, at some cost in ratio: the
    /// server resets its compression context after each message (its compressor then comes
    /// from a per-thread pool for the length of a message, so a server connection holds no
    /// compressor between messages; with context takeover it would hold about 256 KiB), and
    /// the client's window is 12 bits (the server's decompressor keeps a 4 KiB window and about
    /// 7 KiB of state instead of 32 KiB and 7 KiB). Level 1, `min_size` 64. What the adapters'
    /// `accept` agrees to.
    ///
    /// The cost, on a stream of small JSON messages (`cargo bench --features deflate --bench
    /// deflate_ratio`): what the server sends is about 2.9× larger than with context takeover
    /// (each message is compressed on its own), what the client sends about 1.07× larger than
    /// with a 15-bit window. `docs/performance.md` has the table.
    ///
    /// ```
    /// use wsproto::deflate::DeflateConfig;
    /// let config = DeflateConfig::low_memory();
    /// assert!(config.server_no_context_takeover);
    /// assert_eq!(config.client_max_window_bits, Some(12));
    /// ```
    #[must_use]
    pub const fn low_memory() -> Self {
        Self { server_no_context_takeover: true, client_max_window_bits: Some(12), ..Self::new() }
    }

    /// Sets [`level`](Self::level) (clamped to 9).
    #[must_use]
    pub const fn level(mut self, level: u32) -> Self {
        self.level = if level > 9 { 9 } else { level };
        self
    }

    /// Sets [`min_size`](Self::min_size).
    #[must_use]
    pub const fn min_size(mut self, bytes: usize) -> Self {
        self.min_size = bytes;
        self
    }

    /// Sets [`server_no_context_takeover`](Self::server_no_context_takeover).
    #[must_use]
    pub const fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`client_no_context_takeover`](Self::client_no_context_takeover).
    #[must_use]
    pub const fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets [`server_max_window_bits`](Self::server_max_window_bits); values are clamped to
    /// 9–15.
    #[must_use]
    pub const fn server_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.server_max_window_bits = clamp_bits(bits);
        self
    }

    /// Sets [`client_max_window_bits`](Self::client_max_window_bits); values are clamped to
    /// 9–15.
    #[must_use]
    pub const fn client_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.client_max_window_bits = clamp_bits(bits);
        self
    }

    /// The client's offer.
    #[must_use]
    pub fn offer(&self) -> ExtensionOffer {
        let mut offer = ExtensionOffer::new(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            offer = offer.with_flag("server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            offer = offer.with_flag("client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            offer = offer.with_param("server_max_window_bits", bits.to_string());
        }
        match self.client_max_window_bits {
            Some(bits) => offer.with_param("client_max_window_bits", bits.to_string()),
            None => offer.with_flag("client_max_window_bits"),
        }
    }

    /// A server's choice among the client's offers: the first permessage-deflate offer that is
    /// valid and acceptable, with the response to send. Invalid offers are declined (skipped),
    /// as RFC 7692 §5 requires.
    #[must_use]
    pub fn negotiate(&self, offers: &[ExtensionOffer]) -> Option<(ExtensionOffer, PerMessageDeflate)> {
        offers.iter().filter(|o| o.is(PERMESSAGE_DEFLATE)).find_map(|o| self.answer(o))
    }

    fn answer(&self, offer: &ExtensionOffer) -> Option<(ExtensionOffer, PerMessageDeflate)> {
        let asked = Parsed::from_offer(offer).ok()?;
        let mut params = DeflateParams::DEFAULT;
        let mut response = ExtensionOffer::new(PERMESSAGE_DEFLATE);
        if asked.server_no_context_takeover || self.server_no_context_takeover {
            params.server_no_context_takeover = true;
            response = response.with_flag("server_no_context_takeover");
        }
        if asked.client_no_context_takeover || self.client_no_context_takeover {
            params.client_no_context_takeover = true;
            response = response.with_flag("client_no_context_takeover");
        }
        let ours = self.server_max_window_bits.unwrap_or(15);
        let server_bits = match asked.server_max_window_bits {
            Some(Some(limit)) => limit.min(ours),
            Some(None) => return None,
            None => ours,
        };
        if server_bits < 9 {
            // zlib cannot compress with a 256-byte window: decline this offer.
            return None;
        }
        if server_bits < 15 || asked.server_max_window_bits.is_some() {
            params.server_max_window_bits = server_bits;
            response = response.with_param("server_max_window_bits", server_bits.to_string());
        }
        match asked.client_max_window_bits {
            // The client did not say it can limit its window: it compresses with 15 bits,
            // which we can always read.
            None => {}
            Some(limit) => {
                let bits = limit.unwrap_or(15).min(self.client_max_window_bits.unwrap_or(15));
                if bits < 15 || limit.is_some() {
                    params.client_max_window_bits = bits;
                    response = response.with_param("client_max_window_bits", bits.to_string());
                }
            }
        }
        Some((response, PerMessageDeflate { params, level: self.level, min_size: self.min_size }))
    }

    /// A client's check of the server's response to [`offer`](Self::offer).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidExtensions`] when the response has unknown, repeated or invalid
    /// parameters, leaves out a parameter the offer asked for, or limits the client's window to
    /// 8 bits (which zlib cannot compress with).
    pub fn accept_response(&self, response: &ExtensionOffer) -> Result<PerMessageDeflate, HandshakeError> {
        let bad = HandshakeError::InvalidExtensions;
        let got = Parsed::from_offer(response).map_err(bad)?;
        if self.server_no_context_takeover && !got.server_no_context_takeover {
            return Err(bad("server_no_context_takeover was asked for but not granted"));
        }
        let server_bits = match got.server_max_window_bits {
            Some(Some(bits)) => bits,
            Some(None) => return Err(bad("server_max_window_bits needs a value in a response")),
            None if self.server_max_window_bits.is_some() => {
                return Err(bad("server_max_window_bits was asked for but not granted"));
            }
            None => 15,
        };
        if self.server_max_window_bits.is_some_and(|limit| server_bits > limit) {
            return Err(bad("server_max_window_bits above the offered limit"));
        }
        let client_bits = match got.client_max_window_bits {
            Some(Some(bits)) => bits,
            Some(None) => return Err(bad("client_max_window_bits needs a value in a response")),
            None => self.client_max_window_bits.unwrap_or(15),
        };
        if self.client_max_window_bits.is_some_and(|limit| client_bits > limit) {
            return Err(bad("client_max_window_bits above the offered limit"));
        }
        if client_bits < 9 {
            return Err(bad("client_max_window_bits=8 is not supported (zlib needs 9 or more)"));
        }
        let params = DeflateParams {
            server_no_context_takeover: got.server_no_context_takeover,
            client_no_context_takeover: got.client_no_context_takeover || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        Ok(PerMessageDeflate { params, level: self.level, min_size: self.min_size })
    }
}

const fn clamp_bits(bits: Option<u8>) -> Option<u8> {
    match bits {
        Some(b) if b < 9 => Some(9),
        Some(b) if b > 15 => Some(15),
        other => other,
    }
}

/// The parameters in force on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server resets its compression context after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after each message.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window, in bits (8–15).
    pub server_max_window_bits: u8,
    /// The client's LZ77 window, in bits (8–15).
    pub client_max_window_bits: u8,
}

impl DeflateParams {
    /// Context takeover on both sides, 15-bit windows.
    pub const DEFAULT: Self = Self {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
}

/// What the handshake agreed on, plus how this endpoint compresses: everything a connection
/// needs to run permessage-deflate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PerMessageDeflate {
    /// The negotiated parameters.
    pub params: DeflateParams,
    /// Our compression level.
    pub level: u32,
    /// Our minimum size for compressing a message.
    pub min_size: usize,
}

impl PerMessageDeflate {
    /// Agreed parameters with our level and minimum size from `config` (for RFC 8441 / 9220
    /// streams negotiated outside [`crate::handshake`]).
    #[must_use]
    pub const fn new(params: DeflateParams, config: &DeflateConfig) -> Self {
        Self { params, level: config.level, min_size: config.min_size }
    }
}

/// The parameters of one offer or response, checked for RFC 7692's grammar.
#[derive(Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

impl Parsed {
    fn from_offer(offer: &ExtensionOffer) -> Result<Self, &'static str> {
        let mut p = Self::default();
        for (name, value) in &offer.params {
            let name = name.as_str();
            let flag = |seen: &mut bool| {
                if value.is_some() {
                    return Err("a no_context_takeover parameter takes no value");
                }
                if core::mem::replace(seen, true) {
                    return Err("repeated parameter");
                }
                Ok(())
            };
            if name.eq_ignore_ascii_case("server_no_context_takeover") {
                flag(&mut p.server_no_context_takeover)?;
            } else if name.eq_ignore_ascii_case("client_no_context_takeover") {
                flag(&mut p.client_no_context_takeover)?;
            } else if name.eq_ignore_ascii_case("server_max_window_bits") {
                if p.server_max_window_bits.is_some() {
                    return Err("repeated parameter");
                }
                // A server_max_window_bits without a value is invalid in offers and responses.
                let bits = value.as_deref().ok_or("server_max_window_bits needs a value")?;
                p.server_max_window_bits = Some(Some(window_bits(bits)?));
            } else if name.eq_ignore_ascii_case("client_max_window_bits") {
                if p.client_max_window_bits.is_some() {
                    return Err("repeated parameter");
                }
                p.client_max_window_bits = Some(value.as_deref().map(window_bits).transpose()?);
            } else {
                return Err("unknown permessage-deflate parameter");
            }
        }
        Ok(p)
    }
}

/// A window size: a decimal 8–15 without leading zeros (RFC 7692 §7.1.2).
fn window_bits(value: &str) -> Result<u8, &'static str> {
    match value {
        "8" => Ok(8),
        "9" => Ok(9),
        "10" => Ok(10),
        "11" => Ok(11),
        "12" => Ok(12),
        "13" => Ok(13),
        "14" => Ok(14),
        "15" => Ok(15),
        _ => Err("window bits must be 8 to 15"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;

    fn offers(header: &str) -> Vec<ExtensionOffer> {
        ExtensionOffer::parse_list(header.as_bytes()).unwrap()
    }

    fn negotiate(config: DeflateConfig, header: &str) -> Option<(alloc::string::String, DeflateParams)> {
        config.negotiate(&offers(header)).map(|(r, p)| (r.to_string(), p.params))
    }

    #[test]
    fn server_matrix() {
        let d = DeflateConfig::new();
        assert_eq!(negotiate(d, "permessage-deflate"), Some(("permessage-deflate".into(), DeflateParams::DEFAULT)));
        // Browsers' offer.
        let (r, p) = negotiate(d, "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(r, "permessage-deflate");
        assert_eq!(p, DeflateParams::DEFAULT);
        let (r, p) =
            negotiate(d, "permessage-deflate; server_no_context_takeover; client_no_context_takeover").unwrap();
        assert_eq!(r, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
        assert!(p.server_no_context_takeover && p.client_no_context_takeover);
        let (r, p) = negotiate(d, "permessage-deflate; server_max_window_bits=10").unwrap();
        assert_eq!(r, "permessage-deflate; server_max_window_bits=10");
        assert_eq!(p.server_max_window_bits, 10);
        let (r, p) = negotiate(d, "permessage-deflate; client_max_window_bits=12").unwrap();
        assert_eq!(r, "permessage-deflate; client_max_window_bits=12");
        assert_eq!(p.client_max_window_bits, 12);
        // The server's own limits.
        let strict = d.server_max_window_bits(Some(11)).client_max_window_bits(Some(10));
        let (r, _) = negotiate(strict, "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(r, "permessage-deflate; server_max_window_bits=11; client_max_window_bits=10");
        let (r, _) = negotiate(strict, "permessage-deflate").unwrap();
        assert_eq!(r, "permessage-deflate; server_max_window_bits=11");
        let (r, _) = negotiate(strict, "permessage-deflate; server_max_window_bits=9").unwrap();
        assert_eq!(r, "permessage-deflate; server_max_window_bits=9");
    }

    #[test]
    fn server_declines_invalid_and_takes_the_next_offer() {
        let d = DeflateConfig::new();
        for bad in [
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=08",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; unknown",
            "permessage-deflate; server_max_window_bits=8",
        ] {
            assert_eq!(negotiate(d, bad), None, "{bad}");
            let fallback = format!("{bad}, permessage-deflate; client_no_context_takeover");
            let (r, _) = negotiate(d, &fallback).unwrap();
            assert_eq!(r, "permessage-deflate; client_no_context_takeover", "{bad}");
        }
        assert_eq!(negotiate(d, "x-other"), None);
    }

    #[test]
    fn client_checks_the_response() {
        let d = DeflateConfig::new();
        let ok = |cfg: DeflateConfig, r: &str| cfg.accept_response(&offers(r)[0]);
        assert_eq!(ok(d, "permessage-deflate").unwrap().params, DeflateParams::DEFAULT);
        let p = ok(d, "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9").unwrap().params;
        assert_eq!((p.server_max_window_bits, p.client_max_window_bits), (10, 9));
        assert!(ok(d, "permessage-deflate; client_no_context_takeover").unwrap().params.client_no_context_takeover);
        for bad in [
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; bogus",
            "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        ] {
            assert!(ok(d, bad).is_err(), "{bad}");
        }
        let asks = d.server_no_context_takeover(true).server_max_window_bits(Some(10));
        assert!(ok(asks, "permessage-deflate").is_err());
        assert!(ok(asks, "permessage-deflate; server_no_context_takeover; server_max_window_bits=12").is_err());
        assert!(ok(asks, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10").is_ok());
        let limited = d.client_max_window_bits(Some(10));
        assert!(ok(limited, "permessage-deflate; client_max_window_bits=12").is_err());
    }

    #[test]
    fn default_offer_is_the_browsers() {
        assert_eq!(DeflateConfig::new().offer().to_string(), "permessage-deflate; client_max_window_bits");
    }
}
