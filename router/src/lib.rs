//! The router (分拨): classifies each received appeal to a service matter and so to its
//! responsible unit, and dispatches it when sure. The taxonomy, the classifier and automatic
//! dispatch arrive with the router issue; until then appeals are dispatched by hand through
//! the API.
