//! Who listens to what: the consumer groups and their bindings, declared by every process
//! before it publishes (and written out for operators in `deploy/rabbitmq/definitions.json`).

use hotline_schemas::event::envelope::topic_matches;

/// A consumer group (one durable queue) and the routing keys bound to it.
#[derive(Debug, PartialEq, Eq)]
pub struct Subscription {
    pub group: &'static str,
    pub bindings: &'static [&'static str],
}

impl Subscription {
    pub fn matches(&self, routing_key: &str) -> bool {
        self.bindings.iter().any(|b| topic_matches(b, routing_key))
    }
}

/// The router classifies every received appeal.
pub const ROUTER: Subscription = Subscription {
    group: "router",
    bindings: &["appeal.received"],
};

/// The worker tells a unit at once that it has a new appeal to sign for.
pub const NOTIFIER: Subscription = Subscription {
    group: "notifier",
    bindings: &[
        "appeal.dispatched.*",
        "appeal.reassigned.*",
        "appeal.reminded",
        "appeal.escalated",
        "appeal.replied",
        "appeal.noted",
        "sla.warning",
    ],
};

/// Every consumer group of the platform.
pub const TOPOLOGY: &[&Subscription] = &[&ROUTER, &NOTIFIER];

/// The subscription of `group`.
pub fn subscription(group: &str) -> Option<&'static Subscription> {
    TOPOLOGY.iter().copied().find(|s| s.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_unique_and_bound() {
        for (i, s) in TOPOLOGY.iter().enumerate() {
            assert!(!s.bindings.is_empty());
            assert!(TOPOLOGY[i + 1..].iter().all(|o| o.group != s.group));
        }
        assert!(ROUTER.matches("appeal.received"));
        assert!(NOTIFIER.matches("appeal.dispatched.DEMO-FGJ"));
        assert!(!NOTIFIER.matches("appeal.accepted"));
        assert!(NOTIFIER.matches("sla.warning"));
        assert!(!NOTIFIER.matches("sla.breached"));
    }
}
