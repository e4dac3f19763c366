//! Abuse limits on intake (`POST /api/v1/appeals`): the public's submissions per client
//! address and per appellant, staff's per client address with a limit of their own; and the
//! client address itself, read from `X-Forwarded-For` only when a trusted proxy sent it.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;

use axum::http::HeaderMap;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use hotline_schemas::{DomainError, ErrorCode};

use crate::error::ApiError;

/// The limits a city sets; a rate of 0 turns its limit off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitSettings {
    /// Public submissions per minute from one client address…
    pub public_per_minute: u32,
    /// …of which this many may come at once.
    pub public_burst: u32,
    /// Public submissions per hour by one appellant (phone number, else WeChat openid).
    pub appellant_per_hour: u32,
    /// Staff submissions per minute from one client address, as many at once.
    pub staff_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

/// Keyed limiters drop the state of quiet keys once they hold this many.
const MAX_KEYS: usize = 100_000;

/// One keyed limit.
struct Limit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(quota: Option<Quota>) -> Option<Self> {
        quota.map(|q| Limit {
            limiter: DefaultKeyedRateLimiter::keyed(q),
        })
    }

    /// Takes one submission for `key`; when none is left, how many seconds until one is.
    fn take(&self, key: &K) -> Result<(), u64> {
        let outcome = self.limiter.check_key(key);
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        outcome.map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// The intake limits of one gateway process.
pub struct IntakeLimits {
    public: Option<Limit<IpAddr>>,
    appellant: Option<Limit<String>>,
    staff: Option<Limit<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
}

impl IntakeLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        let per_minute = |rate: u32, burst: u32| {
            let rate = NonZeroU32::new(rate)?;
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            Some(Quota::per_minute(rate).allow_burst(burst))
        };
        Self {
            public: Limit::new(per_minute(
                settings.public_per_minute,
                settings.public_burst,
            )),
            appellant: Limit::new(
                NonZeroU32::new(settings.appellant_per_hour).map(Quota::per_hour),
            ),
            staff: Limit::new(per_minute(
                settings.staff_per_minute,
                settings.staff_per_minute,
            )),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// No limits: for tools and tests that submit in bulk.
    pub fn off() -> Self {
        Self::new(&LimitSettings::default())
    }

    /// A public submission from `client` (`None`: no socket, e.g. a test calling the router).
    pub fn take_public(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        take(&self.public, &bucket(client), None)
    }

    /// A public submission by the appellant known as `contact` (see `Appellant::contact`).
    pub fn take_appellant(&self, contact: &str) -> Result<(), ApiError> {
        take(&self.appellant, &contact.to_owned(), Some("appellant"))
    }

    /// A staff submission from `client`.
    pub fn take_staff(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        take(&self.staff, &bucket(client), None)
    }

    /// The client behind `peer`: the peer itself, or when the peer is a trusted proxy the
    /// right-most `X-Forwarded-For` address that is not one (the entries to its left are
    /// whatever the client wrote).
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(|p| p.to_canonical())?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An address this gateway cannot read: the last proxy's is all that is known.
            let Some(ip) = parse_hop(hop) else {
                return Some(client);
            };
            client = ip;
            if !self.trusted_proxies.contains(&ip) {
                break;
            }
        }
        Some(client)
    }
}

fn take<K: Hash + Eq + Clone>(
    limit: &Option<Limit<K>>,
    key: &K,
    field: Option<&str>,
) -> Result<(), ApiError> {
    let Some(limit) = limit else {
        return Ok(());
    };
    limit.take(key).map_err(|seconds| {
        let mut error = DomainError::new(ErrorCode::RateLimited)
            .with_arg("seconds", seconds.max(1).to_string());
        if let Some(field) = field {
            error = error.with_field(field);
        }
        ApiError(error)
    })
}

/// The key of a client address: an IPv6 client is its /64 (one subscriber's network).
fn bucket(client: Option<IpAddr>) -> IpAddr {
    match client {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        Some(ip) => ip,
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().unwrap());
        h
    }

    #[test]
    fn the_client_is_read_from_trusted_proxies_only() {
        let limits = IntakeLimits::new(&LimitSettings {
            trusted_proxies: vec![ip("10.0.0.1"), ip("10.0.0.2")],
            ..LimitSettings::default()
        });
        // Not a proxy: its header is ignored.
        let h = forwarded("203.0.113.9");
        assert_eq!(
            limits.client(Some(ip("198.51.100.7")), &h),
            Some(ip("198.51.100.7"))
        );
        // Through two proxies; the client's own entry on the left is not believed.
        let h = forwarded("1.1.1.1, 203.0.113.9, 10.0.0.2");
        assert_eq!(
            limits.client(Some(ip("10.0.0.1")), &h),
            Some(ip("203.0.113.9"))
        );
        let h = forwarded("[2001:db8::5]:4711");
        assert_eq!(
            limits.client(Some(ip("::ffff:10.0.0.1")), &h),
            Some(ip("2001:db8::5"))
        );
        // No header, or one that cannot be read: the proxy's own address.
        assert_eq!(
            limits.client(Some(ip("10.0.0.1")), &HeaderMap::new()),
            Some(ip("10.0.0.1"))
        );
        let h = forwarded("unknown, 10.0.0.2");
        assert_eq!(
            limits.client(Some(ip("10.0.0.1")), &h),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(limits.client(None, &h), None);
    }

    #[test]
    fn limits_hold_each_key_apart_and_say_when_to_retry() {
        let limits = IntakeLimits::new(&LimitSettings {
            public_per_minute: 2,
            public_burst: 2,
            appellant_per_hour: 1,
            staff_per_minute: 3,
            ..LimitSettings::default()
        });
        let (a, b) = (Some(ip("203.0.113.1")), Some(ip("203.0.113.2")));
        assert!(limits.take_public(a).is_ok());
        assert!(limits.take_public(a).is_ok());
        let held = limits.take_public(a).unwrap_err();
        assert_eq!(held.0.code, ErrorCode::RateLimited);
        let seconds: u64 = held.0.args["seconds"].parse().unwrap();
        assert!((1..=30).contains(&seconds), "{seconds}");
        assert!(limits.take_public(b).is_ok());
        // Staff from the same address have their own limit.
        for _ in 0..3 {
            assert!(limits.take_staff(a).is_ok());
        }
        assert!(limits.take_staff(a).is_err());
        assert!(limits.take_appellant("phone:13800138000").is_ok());
        let held = limits.take_appellant("phone:13800138000").unwrap_err();
        assert_eq!(held.0.field.as_deref(), Some("appellant"));
        assert!(held.0.args["seconds"].parse::<u64>().unwrap() > 3000);
        assert!(limits.take_appellant("phone:13912345678").is_ok());
        // One IPv6 subscriber network is one client.
        let (v6a, v6b) = (Some(ip("2001:db8:1:2::1")), Some(ip("2001:db8:1:2::ff")));
        assert!(limits.take_public(v6a).is_ok());
        assert!(limits.take_public(v6b).is_ok());
        assert!(limits.take_public(v6a).is_err());
        // Off: nothing is held.
        let off = IntakeLimits::off();
        for _ in 0..100 {
            assert!(off.take_public(a).is_ok() && off.take_appellant("x").is_ok());
        }
    }
}
