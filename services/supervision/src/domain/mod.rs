//! Pure rules of supervision: sampling (which subjects get a callback).
pub mod sampling;

pub use sampling::SamplingPolicy;
