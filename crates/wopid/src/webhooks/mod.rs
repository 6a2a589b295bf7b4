//! Webhooks: what happens to files, folders and shares, told to the applications that embed
//! wopid. The use cases in `ops` build an [`Event`] once a change has committed and [`emit`] it
//! before they answer; `emit` queues one delivery per configured receiver that wants the event in
//! the metadata store (`WebhookQueue`), and the [`worker`] POSTs the queued deliveries, signed,
//! retrying with backoff until a receiver answers 2xx or the delivery is too old.
//!
//! The change and its deliveries are two writes: a process that dies between the commit of the
//! change and the queuing of its deliveries loses those events (the window is one store write).
//! Once queued, a delivery survives restarts and is sent at least once.

pub mod sign;
pub mod worker;

use serde_json::{Map, Value, json};
use wopid_proto::Millis;
use wopid_store::{Container, FileRecord, NewDelivery};

use crate::state::AppState;

/// Every event type, as receivers see it in `type` and `X-Wopid-Event`.
pub const EVENT_TYPES: &[&str] = &[
    FILE_CREATED,
    FILE_SAVED,
    FILE_RENAMED,
    FILE_MOVED,
    FILE_DELETED,
    FILE_LOCKED,
    FILE_UNLOCKED,
    CONTAINER_CREATED,
    CONTAINER_RENAMED,
    CONTAINER_DELETED,
    SHARE_CREATED,
    SHARE_CHANGED,
    SHARE_REMOVED,
];

pub const FILE_CREATED: &str = "file.created";
pub const FILE_SAVED: &str = "file.saved";
pub const FILE_RENAMED: &str = "file.renamed";
pub const FILE_MOVED: &str = "file.moved";
pub const FILE_DELETED: &str = "file.deleted";
pub const FILE_LOCKED: &str = "file.locked";
pub const FILE_UNLOCKED: &str = "file.unlocked";
pub const CONTAINER_CREATED: &str = "container.created";
pub const CONTAINER_RENAMED: &str = "container.renamed";
pub const CONTAINER_DELETED: &str = "container.deleted";
pub const SHARE_CREATED: &str = "share.created";
pub const SHARE_CHANGED: &str = "share.changed";
pub const SHARE_REMOVED: &str = "share.removed";

/// Wakes the delivery worker of this process when something was queued.
#[derive(Default)]
pub struct Hub {
    queued: tokio::sync::Notify,
}

impl Hub {
    /// Tells the worker to look for due deliveries now (also used by tests after they move the
    /// clock).
    pub fn wake(&self) {
        self.queued.notify_one();
    }
}

/// What a share is on.
#[derive(Debug, Clone, Copy)]
pub enum Shared<'a> {
    File(&'a FileRecord),
    Container(&'a Container),
}

/// One event: its type, who caused it, and what it is about. It borrows what it names; the JSON
/// body is built by [`Event::payload`] only when a receiver wants the event, so an installation
/// without webhooks pays nothing on the operations that emit (Lock, PutFile …) but this value.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: &'static str,
    /// The user who made the change; `None` for the administration commands.
    pub actor: Option<&'a str>,
    subject: Option<Shared<'a>>,
    /// The share's user and permission now (`None` for `share.removed`), for share events.
    share: Option<(&'a str, Option<bool>)>,
    /// The members of the payload besides the subject and the share.
    extras: Vec<(&'static str, Value)>,
}

impl<'a> Event<'a> {
    fn new(kind: &'static str, actor: Option<&'a str>, subject: Option<Shared<'a>>) -> Self {
        Self {
            kind,
            actor,
            subject,
            share: None,
            extras: Vec::new(),
        }
    }

    /// An event about a file, as it stands after the change (before it, for `file.deleted`).
    pub fn file(kind: &'static str, actor: Option<&'a str>, f: &'a FileRecord) -> Self {
        Self::new(kind, actor, Some(Shared::File(f)))
    }

    /// An event about a container.
    pub fn container(kind: &'static str, actor: Option<&'a str>, c: &'a Container) -> Self {
        Self::new(kind, actor, Some(Shared::Container(c)))
    }

    /// An event about a share of a file or container with `user_id`: `can_write` is the share's
    /// permission now (`None` for `share.removed`).
    pub fn share(
        kind: &'static str,
        actor: Option<&'a str>,
        on: Shared<'a>,
        user_id: &'a str,
        can_write: Option<bool>,
    ) -> Self {
        Self {
            share: Some((user_id, can_write)),
            ..Self::new(kind, actor, Some(on))
        }
    }

    /// One more member of the payload.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.extras.push((key, value.into()));
        self
    }

    /// The JSON body sent for this event.
    pub fn payload(&self, id: &str, now_ms: i64) -> String {
        let mut body = Map::new();
        body.insert("id".into(), id.into());
        body.insert("type".into(), self.kind.into());
        body.insert(
            "occurred_at".into(),
            Millis::from_ms(now_ms).to_iso8601().into(),
        );
        body.insert(
            "actor".into(),
            self.actor.map_or(Value::Null, |id| json!({ "id": id })),
        );
        match self.subject {
            Some(Shared::File(f)) => {
                body.insert("file".into(), file_json(f));
            }
            Some(Shared::Container(c)) => {
                body.insert("container".into(), container_json(c));
            }
            None => {}
        }
        if let Some((user_id, can_write)) = self.share {
            let mut share = json!({ "user": { "id": user_id } });
            if let Some(w) = can_write {
                share["can_write"] = w.into();
            }
            body.insert("share".into(), share);
        }
        for (k, v) in &self.extras {
            body.insert((*k).to_owned(), v.clone());
        }
        Value::Object(body).to_string()
    }
}

/// A file in a payload.
pub fn file_json(f: &FileRecord) -> Value {
    json!({
        "id": f.id,
        "name": f.name,
        "parent": f.container_id,
        "owner": f.owner_id,
        "size": f.size,
        "version": f.version,
        "sha256": f.sha256,
        "modified_at": Millis::from_ms(f.modified_ms).to_iso8601(),
    })
}

/// A container in a payload.
pub fn container_json(c: &Container) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "parent": c.parent_id,
        "owner": c.owner_id,
    })
}

/// Queues `event` for every receiver that wants it, before the caller answers. A change is
/// already committed when its event is emitted, so a failure to queue is logged and counted,
/// never turned into an error of the request (the client would repeat a change that was made).
pub async fn emit(state: &AppState, event: Event<'_>) {
    let hooks: Vec<_> = state
        .config
        .webhooks
        .iter()
        .filter(|w| w.wants(event.kind))
        .collect();
    if hooks.is_empty() {
        return;
    }
    let now = state.now_ms();
    let payload = event.payload(&wopid_store::new_id(), now);
    let deliveries: Vec<_> = hooks
        .iter()
        .map(|w| NewDelivery {
            id: wopid_store::new_id(),
            url: w.url.clone(),
            event: event.kind.to_owned(),
            payload: payload.clone(),
            created_ms: now,
        })
        .collect();
    match state.meta.enqueue_deliveries(&deliveries).await {
        Ok(()) => state.webhooks.wake(),
        Err(e) => {
            state
                .metrics
                .webhook(worker::Outcome::Lost, deliveries.len() as u64);
            tracing::error!(error = %e, event = event.kind, "could not queue webhook deliveries; the event is lost");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_carries_id_type_time_actor_and_data() {
        let ev = Event::new(FILE_RENAMED, Some("u1"), None).with("previous_name", "a.docx");
        let v: Value = serde_json::from_str(&ev.payload("ev1", 1_767_225_600_000)).expect("json");
        assert_eq!(v["id"], "ev1");
        assert_eq!(v["type"], "file.renamed");
        assert_eq!(v["occurred_at"], "2026-01-01T00:00:00.0000000Z");
        assert_eq!(v["actor"], json!({"id": "u1"}));
        assert_eq!(v["previous_name"], "a.docx");
        let c = Container {
            id: "c1".into(),
            parent_id: Some("root".into()),
            owner_id: "u1".into(),
            name: "Docs".into(),
        };
        let removed = Event::share(SHARE_REMOVED, Some("u1"), Shared::Container(&c), "u2", None);
        let v: Value = serde_json::from_str(&removed.payload("ev3", 0)).expect("json");
        assert_eq!(v["share"], json!({"user": {"id": "u2"}}));
        assert_eq!(
            v["container"],
            json!({"id": "c1", "name": "Docs", "parent": "root", "owner": "u1"})
        );
        let anon = Event::new(FILE_SAVED, None, None).payload("ev2", 0);
        let v: Value = serde_json::from_str(&anon).expect("json");
        assert_eq!(v["actor"], Value::Null);
    }
}
