//! Protobuf contracts of Zoufang: the gRPC services and the event payloads,
//! generated at build time from `proto/zoufang/**`.
#![allow(clippy::all, clippy::pedantic)]
#![allow(missing_docs)]

/// Encoded `FileDescriptorSet` of every proto here, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/zoufang_descriptor.bin"));

pub mod catalogue;

pub mod common {
    pub mod v1 {
        tonic::include_proto!("zoufang.common.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("zoufang.events.v1");
    }
}

pub mod registry {
    pub mod v1 {
        tonic::include_proto!("zoufang.registry.v1");
    }
}

pub mod issues {
    pub mod v1 {
        tonic::include_proto!("zoufang.issues.v1");
    }
}

pub mod supervision {
    pub mod v1 {
        tonic::include_proto!("zoufang.supervision.v1");
    }
}

pub mod notify {
    pub mod v1 {
        tonic::include_proto!("zoufang.notify.v1");
    }
}

pub mod petition {
    pub mod v1 {
        tonic::include_proto!("zoufang.petition.v1");
    }
}
