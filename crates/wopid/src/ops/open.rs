//! Which editor and action open a file, and the action URL to load: the policy the host page
//! and the management API's `open` share.

use wopid_proto::action_url::{Params, expand, ui_llcc_from_accept_language};
use wopid_store::FileRecord;

use crate::state::AppState;

/// What the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    View,
    Edit,
    /// A new document: the editor's `editnew` action where it has one.
    EditNew,
}

/// The editor and action that open a file.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub editor: String,
    /// The action's name in the editor's discovery (`view`, `edit`, `editnew`, `embedview`).
    pub action: String,
    /// The action URL with its placeholders filled.
    pub action_url: String,
    /// The editor's origin, the only one a host page frames.
    pub origin: String,
    pub favicon: Option<String>,
    /// The action only views the file (its token is read-only).
    pub view: bool,
}

/// Why no editor opens the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoEditor {
    /// No editor is configured for the file's type.
    NoneForType,
    /// The editor asked for is not configured.
    Unknown,
    /// The editor's discovery document has not been fetched yet.
    NotLoaded,
    /// The editor requires proofs but its discovery publishes no proof key.
    Unprovable,
    /// The editor has no suitable action for the file's type.
    CannotOpen,
    /// The editor's action URL is not absolute.
    BadActionUrl,
}

impl NoEditor {
    pub fn text(self) -> &'static str {
        match self {
            Self::NoneForType => "No editor is configured for this type of file.",
            Self::Unknown => "No such editor.",
            Self::NotLoaded => "The editor's discovery document is not available yet.",
            Self::Unprovable => {
                "This editor cannot be used: it is configured to require proof keys, but its \
                 discovery document publishes none. Ask the administrator to set its proof policy \
                 to optional."
            }
            Self::CannotOpen => "This editor cannot open this type of file.",
            Self::BadActionUrl => "The editor's action URL is not absolute.",
        }
    }
}

/// The editor (asked for, else the default for the type) and its action: a new, empty file
/// opens with `editnew` (the editor fills in its template), an edit with `edit`, anything else
/// with `view`. `language` is the request's `Accept-Language`.
pub fn choose(
    state: &AppState,
    file: &FileRecord,
    asked: Option<String>,
    want: Want,
    language: Option<&str>,
) -> Result<Chosen, NoEditor> {
    let ext = wopid_proto::names::split_ext(&file.name)
        .1
        .trim_start_matches('.')
        .to_lowercase();
    let editor_name = asked
        .or_else(|| state.editors.default_for(&ext))
        .ok_or(NoEditor::NoneForType)?;
    let editor = state.editors.get(&editor_name).ok_or(NoEditor::Unknown)?;
    let loaded = editor.loaded().ok_or(NoEditor::NotLoaded)?;
    if editor.unprovable() {
        return Err(NoEditor::Unprovable);
    }
    let wanted: &[&str] = match (want, file.size == 0) {
        (Want::EditNew, _) | (Want::Edit, true) => &["editnew", "edit", "view"],
        (Want::Edit, false) => &["edit", "view"],
        (Want::View, _) => &["view", "embedview"],
    };
    let action = wanted
        .iter()
        .find_map(|a| loaded.discovery.action(&ext, a))
        .ok_or(NoEditor::CannotOpen)?;
    let mut params = Params::new(state.wopi_src(&file.id));
    params.ui_llcc = Some(ui_llcc_from_accept_language(language));
    let action_url = expand(&action.action.urlsrc, &params);
    let origin = crate::editors::origin_of(&action_url).ok_or(NoEditor::BadActionUrl)?;
    Ok(Chosen {
        editor: editor_name,
        action: action.action.name.clone(),
        action_url,
        origin,
        favicon: action.app.fav_icon_url.clone(),
        view: action.action.name == "view",
    })
}
