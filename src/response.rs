//! The ONE Record api:Error body and the annotation headers.
