//! The changes feed: the access changes the caller may see, in the order
//! they were committed, resumable from a cursor (see
//! [`keyholder_store::changes`]).

use keyholder_store::changes::{self, Position};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Outcome;
use crate::ops::audit::event_view;
use crate::views::audit::{ChangeView, ChangesView, FeedHead};

/// How many events one read walks at most: a reader far behind catches up
/// in steps of this many, each as cheap as the next.
pub const SCAN: i64 = 10_000;

/// The cursor of a position, opaque to clients: `f1.<txid>.<seq>`
/// (base64url).
pub fn cursor(at: Position) -> String {
    use base64::Engine;
    let text = format!("f1.{}.{}", at.txid, at.seq);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The position of a cursor this feed gave out (422 `cursor` otherwise).
pub fn position(raw: &str) -> Outcome<Position> {
    use base64::Engine;
    let bad = || ApiError::field("cursor", "not a cursor this feed gave out");
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.split('.');
    let (Some("f1"), Some(txid), Some(seq), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (txid, seq) = (txid.parse::<i64>().map_err(|_| bad())?, seq.parse().map_err(|_| bad())?);
    if txid < 0 || seq < 0 {
        return Err(bad());
    }
    Ok(Position { txid, seq })
}

/// Up to `limit` changes after `from` (the start when absent).
pub fn feed(c: &mut Conn, actor: &Caller, from: Option<&str>, limit: i64) -> Outcome<ChangesView> {
    let from = from.map(position).transpose()?.unwrap_or(Position::START);
    let caller = actor.user(c)?;
    let page = changes::read(c, caller.id, caller.is_root, from, limit, SCAN)?;
    let items = page
        .items
        .into_iter()
        .map(|change| {
            let cursor = cursor(change.position);
            let event = event_view(change.event);
            ChangeView {
                cursor,
                id: event.id,
                action: event.action,
                actor: event.actor,
                target: event.target,
                subject_id: change.subject_id,
                before: event.before,
                after: event.after,
                created_at: event.created_at,
            }
        })
        .collect();
    Ok(ChangesView { items, next_cursor: cursor(page.next), has_more: page.more })
}

/// The feed's present end, to read on from after taking a snapshot.
pub fn head(c: &mut Conn, actor: &Caller) -> Outcome<FeedHead> {
    actor.user(c)?;
    Ok(FeedHead { cursor: cursor(changes::head(c)?) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_its_position_and_others_are_refused() {
        let at = Position { txid: 7_300_112, seq: 42 };
        assert_eq!(position(&cursor(at)).ok(), Some(at));
        assert_eq!(position(&cursor(Position::START)).ok(), Some(Position::START));
        for bad in ["", "f1.1.2", "not base64!", &cursor(Position { txid: -1, seq: 0 })] {
            assert!(position(bad).is_err(), "{bad}");
        }
        use base64::Engine;
        let foreign = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("f2.1.2");
        assert!(position(&foreign).is_err());
    }
}
