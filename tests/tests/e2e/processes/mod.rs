//! The real binaries as processes, and the demo generator.
mod campaign;
mod demo_generator;
mod trace_spans;
