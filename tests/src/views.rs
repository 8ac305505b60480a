//! What the client reads back on the success path: only the fields the
//! suites look at, deserialized from the server's JSON.

use serde::Deserialize;

/// An estate as its creator or a member sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct Estate {
    pub id: String,
    pub my_role: Option<String>,
}

/// A site of an estate.
#[derive(Debug, Clone, Deserialize)]
pub struct Site {
    pub id: String,
}

/// An asset with the caller's access level.
#[derive(Debug, Clone, Deserialize)]
pub struct Asset {
    pub id: String,
    pub my_access: String,
}

/// A pending invitation and the token its email carried.
#[derive(Debug, Clone)]
pub struct Invited {
    pub id: String,
    pub token: String,
}
