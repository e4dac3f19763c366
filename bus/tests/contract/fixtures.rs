//! Test doubles and event builders: a recording handler that can be told to fail, a recording
//! parking lot for the in-process bus, and envelopes for one appeal.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use hotline_bus::{BusError, Handler, HandlerError, Message, ParkingLot};
use hotline_schemas::event::envelope::new_traceparent;
use hotline_schemas::event::{Assignment, EventPayload};
use hotline_schemas::{
    AppealId, Channel, Envelope, Event, EventId, EventType, Kind, Priority, Step, TimeLimit,
};
use tokio::sync::watch;

/// Builds the events of one appeal, numbered in order.
pub struct Appeal {
    id: AppealId,
    seq: AtomicI64,
}

impl Appeal {
    pub fn new() -> Self {
        Self {
            id: AppealId::new(),
            seq: AtomicI64::new(0),
        }
    }

    /// The envelope of the appeal's next event of type `event_type`, for `unit` if it names one.
    pub fn event(&self, event_type: EventType, unit: Option<&str>) -> Envelope {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let unit = unit.map(Into::into);
        let assignment = || Assignment {
            unit: unit.clone().unwrap_or_default(),
            from_unit: None,
            response_due: None,
            resolve_due: None,
            matter: None,
        };
        let payload = match event_type {
            EventType::Received => EventPayload::Received {
                channel: Channel::Web,
                kind: Kind::Complaint,
                priority: Priority::Normal,
                ticket_no: format!("20261123-{seq:06}").into(),
                confidential: false,
            },
            EventType::Dispatched => EventPayload::Dispatched(assignment()),
            EventType::Reassigned => EventPayload::Reassigned(assignment()),
            EventType::Accepted => EventPayload::Accepted { unit },
            EventType::SlaBreached => EventPayload::SlaBreached {
                step: Step::ResolutionBreach,
                due_at: Utc::now(),
                unit,
                limit: TimeLimit::Resolution,
            },
            other => panic!("no test event of type {other}"),
        };
        let event = Event {
            id: EventId::new(),
            appeal_id: self.id,
            seq,
            at: Utc::now(),
            actor: "contract-test".to_owned(),
            actor_id: None,
            reason: Some(format!("event #{seq}")),
            payload,
        };
        Envelope::new(&event, Some(new_traceparent()))
    }

    /// A message this version cannot read: an event type from a newer version.
    pub fn written_by_a_newer_version(&self) -> Message {
        let mut value = serde_json::to_value(self.received()).unwrap();
        value["type"] = serde_json::json!("appointment_booked");
        value["payload"]["type"] = serde_json::json!("appointment_booked");
        value["payload"]["data"] = serde_json::json!({ "slot": "2026-12-02T09:00:00+08:00" });
        Message {
            event_id: serde_json::from_value(value["event_id"].clone()).unwrap(),
            routing_key: "appeal.received".to_owned(),
            body: serde_json::to_vec(&value).unwrap().into(),
        }
    }

    /// `appeal.received`: bound by the router group.
    pub fn received(&self) -> Envelope {
        self.event(EventType::Received, None)
    }

    /// `appeal.dispatched.{unit}`: bound by the notifier group.
    pub fn dispatched(&self, unit: &str) -> Envelope {
        self.event(EventType::Dispatched, Some(unit))
    }

    /// `appeal.reassigned.{unit}`: bound by the notifier group.
    pub fn reassigned(&self, unit: &str) -> Envelope {
        self.event(EventType::Reassigned, Some(unit))
    }

    /// `appeal.accepted`: bound by no group.
    pub fn accepted(&self) -> Envelope {
        self.event(EventType::Accepted, None)
    }

    /// `sla.breached`: bound by no group.
    pub fn sla_breached(&self) -> Envelope {
        self.event(EventType::SlaBreached, None)
    }
}

/// `envelopes` as the bus carries them.
pub fn messages(envelopes: &[Envelope]) -> Vec<Message> {
    envelopes.iter().map(Message::of).collect()
}

/// The ids of `envelopes`, in order.
pub fn ids(envelopes: &[Envelope]) -> Vec<EventId> {
    envelopes.iter().map(|e| e.event_id).collect()
}

/// How the recorder answers one event.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// Fails transiently this many more times, then succeeds.
    Transient(u32),
    /// Always fails permanently.
    Permanent,
}

#[derive(Default)]
struct State {
    /// Every call: the event and when the handler was entered.
    calls: Vec<(EventId, Instant)>,
    /// Events handled successfully, in order.
    handled: Vec<Envelope>,
    failures: HashMap<EventId, Failure>,
    /// The size of each batch handed over at once.
    batches: Vec<usize>,
}

/// A handler that records what it is given and fails on demand.
pub struct Recorder {
    state: Mutex<State>,
    /// Calls for this event wait until the gate opens.
    gate: Option<EventId>,
    gate_entered: AtomicBool,
    gate_open: watch::Sender<bool>,
    /// Deliveries it takes at once.
    batch_limit: usize,
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            gate: None,
            gate_entered: AtomicBool::new(false),
            gate_open: watch::Sender::new(false),
            batch_limit: 1,
        }
    }

    /// Takes up to `limit` deliveries at once.
    pub fn batched(mut self, limit: usize) -> Self {
        self.batch_limit = limit;
        self
    }

    /// The sizes of the batches handed over, in order.
    pub fn batches(&self) -> Vec<usize> {
        self.state.lock().unwrap().batches.clone()
    }

    /// Fails `event` transiently `times` times, then takes it in.
    pub fn failing_transiently(self, event: EventId, times: u32) -> Self {
        self.state
            .lock()
            .unwrap()
            .failures
            .insert(event, Failure::Transient(times));
        self
    }

    /// Fails `event` permanently, every time.
    pub fn failing_permanently(self, event: EventId) -> Self {
        self.state
            .lock()
            .unwrap()
            .failures
            .insert(event, Failure::Permanent);
        self
    }

    /// Holds every call for `event` until [`Recorder::open_gate`].
    pub fn gated_at(mut self, event: EventId) -> Self {
        self.gate = Some(event);
        self
    }

    /// Whether a call is (or was) held at the gate.
    pub fn gate_entered(&self) -> bool {
        self.gate_entered.load(Ordering::SeqCst)
    }

    pub fn open_gate(&self) {
        self.gate_open.send_replace(true);
    }

    /// Calls for `event`, successful or not.
    pub fn calls(&self, event: EventId) -> usize {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|(id, _)| *id == event)
            .count()
    }

    /// All calls, for any event.
    pub fn total_calls(&self) -> usize {
        self.state.lock().unwrap().calls.len()
    }

    /// When the handler was entered for `event`, in order.
    pub fn call_times(&self, event: EventId) -> Vec<Instant> {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|(id, _)| *id == event)
            .map(|(_, at)| *at)
            .collect()
    }

    /// Events handled successfully, in order (redeliveries included).
    pub fn handled(&self) -> Vec<Envelope> {
        self.state.lock().unwrap().handled.clone()
    }

    pub fn handled_ids(&self) -> Vec<EventId> {
        ids(&self.state.lock().unwrap().handled)
    }

    pub fn handled_set(&self) -> HashSet<EventId> {
        self.handled_ids().into_iter().collect()
    }
}

#[async_trait]
impl Handler for Recorder {
    fn batch_limit(&self) -> usize {
        self.batch_limit
    }

    async fn handle_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        self.state.lock().unwrap().batches.push(envelopes.len());
        hotline_bus::one_at_a_time(self, envelopes).await
    }

    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let id = envelope.event_id;
        let call = {
            let mut state = self.state.lock().unwrap();
            state.calls.push((id, Instant::now()));
            state.calls.iter().filter(|(e, _)| *e == id).count()
        };
        if self.gate == Some(id) {
            self.gate_entered.store(true, Ordering::SeqCst);
            let mut open = self.gate_open.subscribe();
            // The sender lives as long as `self`.
            let _ = open.wait_for(|open| *open).await;
        }
        let mut state = self.state.lock().unwrap();
        match state.failures.get_mut(&id) {
            Some(Failure::Permanent) => Err(HandlerError::Permanent(format!(
                "permanent failure of {id}"
            ))),
            Some(Failure::Transient(left)) if *left > 0 => {
                *left -= 1;
                Err(HandlerError::Transient(format!(
                    "transient failure {call} of {id}"
                )))
            }
            _ => {
                state.handled.push(envelope.clone());
                Ok(())
            }
        }
    }
}

/// One delivery a consumer gave up on.
#[derive(Debug, Clone)]
pub struct Parked {
    /// The envelope, if the parked message was one.
    pub envelope: Option<Envelope>,
    pub error: String,
    /// The attempt it was parked after, where the backend records it (RabbitMQ).
    pub attempt: Option<u32>,
}

impl Parked {
    pub fn event_id(&self) -> Option<EventId> {
        self.envelope.as_ref().map(|e| e.event_id)
    }
}

/// The in-process bus's parking lot, in memory; can be told to fail.
#[derive(Default)]
pub struct RecordingParking {
    parked: Mutex<Vec<(String, Parked)>>,
    failing: AtomicBool,
}

impl RecordingParking {
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn parked(&self, group: &str) -> Vec<Parked> {
        self.parked
            .lock()
            .unwrap()
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

#[async_trait]
impl ParkingLot for RecordingParking {
    async fn park(&self, group: &str, message: &Message, error: &str) -> Result<(), BusError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(BusError::Parking("the parking lot is full".to_owned()));
        }
        self.parked.lock().unwrap().push((
            group.to_owned(),
            Parked {
                envelope: message.envelope().ok(),
                error: error.to_owned(),
                attempt: None,
            },
        ));
        Ok(())
    }
}

/// How long to keep watching for deliveries that should not come (duplicates, strays).
pub const GRACE: Duration = Duration::from_millis(250);

/// The bound on waiting for anything that should happen.
pub const PATIENCE: Duration = Duration::from_secs(10);
