//! The RabbitMQ topology as data: what `RabbitBus` declares at start, and what operators load
//! from `deploy/rabbitmq/definitions.json` (`rabbitmqctl import_definitions`).

use serde_json::{Value, json};

use crate::rabbit::RabbitOptions;
use crate::topology::TOPOLOGY;

/// A queue to declare: its name, arguments and the routing keys bound to it on the exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePlan {
    pub name: String,
    /// `x-message-ttl` in milliseconds (delay queues).
    pub message_ttl: Option<i64>,
    /// Where expired messages go (delay queues): the group's queue, by the default exchange.
    pub dead_letter_to: Option<String>,
    pub bindings: Vec<&'static str>,
}

/// Every queue of the topology for `options`: per group its queue, one delay queue per retry,
/// and its parking queue.
pub fn queue_plan(options: &RabbitOptions) -> Vec<QueuePlan> {
    let mut plan = Vec::new();
    for subscription in TOPOLOGY {
        let queue = options.queue(subscription.group);
        plan.push(QueuePlan {
            name: queue.clone(),
            message_ttl: None,
            dead_letter_to: None,
            bindings: subscription.bindings.to_vec(),
        });
        for attempt in 1..options.retry.attempts {
            let ttl = options.retry.backoff(attempt).as_millis();
            plan.push(QueuePlan {
                name: options.retry_queue(subscription.group, attempt),
                message_ttl: Some(i64::try_from(ttl).unwrap_or(i64::MAX)),
                dead_letter_to: Some(queue.clone()),
                bindings: Vec::new(),
            });
        }
        plan.push(QueuePlan {
            name: options.parking_queue(subscription.group),
            message_ttl: None,
            dead_letter_to: None,
            bindings: Vec::new(),
        });
    }
    plan
}

/// The topology in RabbitMQ's definitions format, for vhost `/`.
pub fn definitions(options: &RabbitOptions) -> Value {
    let exchange = options.exchange();
    let plan = queue_plan(options);
    let queues: Vec<Value> = plan
        .iter()
        .map(|q| {
            let mut arguments = serde_json::Map::new();
            if let Some(ttl) = q.message_ttl {
                arguments.insert("x-message-ttl".into(), json!(ttl));
            }
            if let Some(target) = &q.dead_letter_to {
                arguments.insert("x-dead-letter-exchange".into(), json!(""));
                arguments.insert("x-dead-letter-routing-key".into(), json!(target));
            }
            json!({
                "name": q.name,
                "vhost": "/",
                "durable": true,
                "auto_delete": false,
                "arguments": arguments,
            })
        })
        .collect();
    let bindings: Vec<Value> = plan
        .iter()
        .flat_map(|q| {
            q.bindings.iter().map(|key| {
                json!({
                    "source": exchange,
                    "vhost": "/",
                    "destination": q.name,
                    "destination_type": "queue",
                    "routing_key": key,
                    "arguments": {},
                })
            })
        })
        .collect();
    json!({
        "exchanges": [{
            "name": exchange,
            "vhost": "/",
            "type": "topic",
            "durable": true,
            "auto_delete": false,
            "internal": false,
            "arguments": {},
        }],
        "queues": queues,
        "bindings": bindings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file operators load is the topology the code declares. To refresh it after a change:
    /// `HOTLINE_WRITE_DEFINITIONS=1 cargo test -p hotline-bus definitions`.
    #[test]
    fn deploy_definitions_match_the_code() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/rabbitmq/definitions.json"
        );
        let generated = definitions(&RabbitOptions::new("amqp://localhost"));
        if std::env::var_os("HOTLINE_WRITE_DEFINITIONS").is_some() {
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            std::fs::write(path, text).unwrap();
        }
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            committed, generated,
            "deploy/rabbitmq/definitions.json is stale"
        );
    }

    #[test]
    fn every_group_has_its_queue_delays_and_parking() {
        let options = RabbitOptions::new("amqp://localhost");
        let plan = queue_plan(&options);
        for s in TOPOLOGY {
            let main = options.queue(s.group);
            assert!(
                plan.iter()
                    .any(|q| q.name == main && q.bindings == s.bindings)
            );
            let delays: Vec<_> = plan
                .iter()
                .filter(|q| q.dead_letter_to.as_ref() == Some(&main))
                .collect();
            assert_eq!(delays.len() as u32, options.retry.attempts - 1);
            assert!(
                delays
                    .windows(2)
                    .all(|w| w[0].message_ttl < w[1].message_ttl)
            );
            assert!(
                plan.iter()
                    .any(|q| q.name == options.parking_queue(s.group))
            );
        }
    }
}
