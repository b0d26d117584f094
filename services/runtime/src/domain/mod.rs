//! Domain value types shared by services.
