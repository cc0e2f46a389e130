//! The CRM: one timeline per customer across every channel and every kind of interaction
//! (see [`timeline`]).

pub mod timeline;
