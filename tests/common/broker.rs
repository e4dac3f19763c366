//! Clearing what a test or benchmark declared on the local RabbitMQ under a prefix of its own.

use std::process::Command;

/// Deletes the queues named `<prefix>.…` and the exchange `<prefix>.events`, through
/// `rabbitmqctl`, best effort; `by` is recorded as who deleted the exchange.
pub fn remove_prefixed(prefix: &str, by: &str) {
    let Ok(out) = Command::new("rabbitmqctl")
        .args(["list_queues", "name", "-q"])
        .output()
    else {
        return;
    };
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let name = name.trim();
        if name.starts_with(&format!("{prefix}.")) {
            let _ = Command::new("rabbitmqctl")
                .args(["delete_queue", name])
                .output();
        }
    }
    let _ = Command::new("rabbitmqctl")
        .args([
            "eval",
            &format!(
                "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"{prefix}.events\">>), false, <<\"{by}\">>)."
            ),
        ])
        .output();
}
