//! The worker: time limits at work (reminders, warnings, escalation), indexing and
//! notifications. The deadlines it will watch are already computed at dispatch
//! (`hotline_schemas::sla`) and stored with each appeal.
