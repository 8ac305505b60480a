//! Steps shared by the table tests (each test file includes this module with
//! `mod support;`).

use keyholder_domain::{Refusal, RefusalKind};

/// A refusal is answered with `code`, as `kind`, whose HTTP status is
/// `status`.
pub fn assert_answer(err: &impl Refusal, code: &str, kind: RefusalKind, status: u16) {
    assert_eq!(err.code(), code);
    assert_eq!(err.kind(), kind);
    assert_eq!(err.kind().http_status(), status);
}
