//! Compiles the proto contracts with the pure-Rust `protox` compiler, so no
//! `protoc` has to be installed, and keeps the descriptor set for gRPC reflection.
use std::{env, fs, path::PathBuf};

const PROTOS: &[&str] = &[
    "zoufang/common/v1/common.proto",
    "zoufang/common/v1/options.proto",
    "zoufang/events/v1/registry_events.proto",
    "zoufang/registry/v1/registry.proto",
    "zoufang/events/v1/issue_events.proto",
    "zoufang/issues/v1/issues.proto",
    "zoufang/supervision/v1/supervision.proto",
    "zoufang/events/v1/petition_events.proto",
    "zoufang/events/v1/session_events.proto",
    "zoufang/notify/v1/notify.proto",
    "zoufang/petition/v1/petition.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut compiler = protox::Compiler::new(["."])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(PROTOS)?;
    let fds = compiler.file_descriptor_set();
    let out = PathBuf::from(env::var("OUT_DIR")?);
    // Encoded by the compiler itself, so custom options such as
    // `(zoufang.common.v1.required)` survive (prost_types drops them).
    fs::write(
        out.join("zoufang_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
