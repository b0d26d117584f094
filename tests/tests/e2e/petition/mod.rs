//! The petition bridge (信访对接).
mod flow;
