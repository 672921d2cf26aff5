//! Halcytone Live: session rooms over WebSockets (`hub`), platform events that drive them and
//! the summary made when a session ends (`events`).

pub mod events;
pub mod hub;
pub mod summary;
