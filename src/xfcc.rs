//! x-forwarded-client-cert parsing.
