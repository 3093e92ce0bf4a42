//! `assets/oauth_clients.json`: the OAuth client Datadog registers for the published tile.

use super::json::{Json, Object};
use super::validate::Checker;
use super::vocabulary;
use super::{Note, OAUTH_CLIENTS, Rule};
use dd_integration::IntegrationSpec;
use dd_integration::Scope;

/// The keys of the client object, in the order written.
const KEYS: [&str; 7] = [
    "id",
    "name",
    "description",
    "client_role",
    "onboarding_url",
    "redirect_uris",
    "scopes",
];

/// The client: the declaration's, with the id Datadog issued (the declaration's, else the
/// folder's, else empty until the client is published).
pub(crate) fn render(spec: &IntegrationSpec, old: Option<&Json>, notes: &mut Vec<Note>) -> Json {
    let old_id = old
        .and_then(|o| o.str_at(&["integration", "id"]))
        .filter(|id| !id.is_empty());
    let id = match (spec.oauth_client_id, old_id) {
        (Some(id), _) => id.to_owned(),
        (None, Some(id)) => {
            notes.push(Note {
                file: OAUTH_CLIENTS,
                message: format!(
                    "the client id {id} was kept from the folder: add `oauth_client_id = \
                     \"{id}\"` to the `#[datadog_integration]` attribute"
                ),
                rule: Some(Rule::Undeclared),
            });
            id.to_owned()
        }
        (None, None) => {
            notes.push(Note {
                file: OAUTH_CLIENTS,
                message: "integration.id is empty until Datadog issues the published client's \
                          id (Developer Platform > your app > Publishing): then add \
                          `oauth_client_id = \"<id>\"` to the `#[datadog_integration]` attribute \
                          and run again"
                    .to_owned(),
                rule: Some(Rule::OAuthClientId),
            });
            String::new()
        }
    };
    let mut client = Object::new();
    client.insert("id", Json::string(id));
    client.insert("name", Json::string(spec.oauth_client_name()));
    client.insert("description", Json::string(spec.oauth_client_description()));
    client.insert("client_role", Json::string("integration"));
    client.insert("onboarding_url", Json::string(spec.onboarding_url));
    client.insert(
        "redirect_uris",
        Json::strings(spec.redirect_uris.iter().copied()),
    );
    client.insert(
        "scopes",
        Json::strings(spec.scopes.iter().map(Scope::as_str)),
    );
    if let Some(published) = old
        .and_then(|f| f.at(&["integration"]))
        .and_then(Json::as_object)
    {
        client.order_like(published);
    }
    let mut file = Object::new();
    file.insert("integration", client.into());
    file.into()
}

/// The client's fields, once the shape is right.
pub(crate) struct Client<'j> {
    pub(crate) id: Option<&'j str>,
    pub(crate) onboarding_url: Option<&'j str>,
    /// `None` when missing or not a list of strings.
    pub(crate) redirect_uris: Option<Vec<&'j str>>,
    /// `None` when missing or not a list of strings.
    pub(crate) scopes: Option<Vec<&'j str>>,
}

/// Checks the OAuth client file; returns its fields for the cross-file checks.
pub(crate) fn check<'j>(
    c: &mut Checker<'_>,
    file: &'j Json,
    manifest: Option<&Json>,
) -> Option<Client<'j>> {
    let fields = shape(c, file)?;
    client_id(c, &fields);
    client_name(c, &fields, manifest);
    client_role(c, &fields);
    client_urls(c, &fields);
    client_scopes(c, &fields);
    Some(fields.client)
}

/// The client's fields as read, with the two that only the rules below need.
struct Fields<'j> {
    client: Client<'j>,
    name: Option<&'j str>,
    description: Option<&'j str>,
    client_role: Option<&'j str>,
}

fn error(c: &mut Checker<'_>, rule: Rule, message: String) {
    c.error(rule, OAUTH_CLIENTS, message);
}

/// [`Rule::OAuthClientShape`]: `{"integration": {...}}` with exactly the client's keys, each of
/// its type. Reads the fields; `None` when there is no client object to read.
fn shape<'j>(c: &mut Checker<'_>, file: &'j Json) -> Option<Fields<'j>> {
    let Some(top) = file.as_object() else {
        error(
            c,
            Rule::OAuthClientShape,
            format!(
                "is {}; it must be {{\"integration\": {{...}}}}",
                file.kind()
            ),
        );
        return None;
    };
    for key in top.keys().filter(|k| *k != "integration") {
        error(
            c,
            Rule::OAuthClientShape,
            format!("has the key `{key}`; the only top-level key is `integration`"),
        );
    }
    let Some(client) = top.get("integration").and_then(Json::as_object) else {
        error(
            c,
            Rule::OAuthClientShape,
            "has no `integration` object".to_owned(),
        );
        return None;
    };
    for key in client.keys().filter(|k| !KEYS.contains(k)) {
        error(
            c,
            Rule::OAuthClientShape,
            format!(
                "integration.{key} is not a client field (they are {})",
                KEYS.join(", ")
            ),
        );
    }
    for key in KEYS.iter().filter(|k| client.get(k).is_none()) {
        error(
            c,
            Rule::OAuthClientShape,
            format!("integration.{key} is missing"),
        );
    }
    let string = |c: &mut Checker<'_>, key: &str| -> Option<&'j str> {
        let value = client.get(key)?;
        let s = value.as_str();
        if s.is_none() {
            error(
                c,
                Rule::OAuthClientShape,
                format!("integration.{key} is {}; it must be a string", value.kind()),
            );
        }
        s
    };
    let strings = |c: &mut Checker<'_>, key: &str| -> Option<Vec<&'j str>> {
        let value = client.get(key)?;
        match value
            .as_array()
            .map(|a| a.iter().map(Json::as_str).collect::<Option<Vec<_>>>())
        {
            Some(Some(list)) => Some(list),
            _ => {
                error(
                    c,
                    Rule::OAuthClientShape,
                    format!("integration.{key} must be a list of strings"),
                );
                None
            }
        }
    };
    // In the order the findings have always come in.
    let id = string(c, "id");
    let name = string(c, "name");
    let description = string(c, "description");
    let client_role = string(c, "client_role");
    let onboarding_url = string(c, "onboarding_url");
    let redirect_uris = strings(c, "redirect_uris");
    let scopes = strings(c, "scopes");
    Some(Fields {
        client: Client {
            id,
            onboarding_url,
            redirect_uris,
            scopes,
        },
        name,
        description,
        client_role,
    })
}

/// [`Rule::OAuthClientId`]: the UUID Datadog issued (empty while not issued: a warning).
fn client_id(c: &mut Checker<'_>, fields: &Fields<'_>) {
    match fields.client.id {
        Some("") => c.warning(
            Rule::OAuthClientId,
            OAUTH_CLIENTS,
            "integration.id is empty: the folder is not ready to submit until it holds the id \
             Datadog issued for the published client (Developer Platform > your app > \
             Publishing); declare it as `oauth_client_id`",
        ),
        Some(id) if !vocabulary::is_uuid(id) => error(
            c,
            Rule::OAuthClientId,
            format!("integration.id `{id}` is not a lowercase UUID as Datadog issues them"),
        ),
        _ => {}
    }
}

/// [`Rule::OAuthClientName`]: a name and a description (a name other than the tile's title is
/// only worth a look: merged clients differ).
fn client_name(c: &mut Checker<'_>, fields: &Fields<'_>, manifest: Option<&Json>) {
    if let Some(name) = fields.name {
        if name.trim().is_empty() {
            error(
                c,
                Rule::OAuthClientName,
                "integration.name is empty".to_owned(),
            );
        } else if let Some(title) = manifest.and_then(|m| m.str_at(&["tile", "title"]))
            && title != name
        {
            c.warning(
                Rule::OAuthClientName,
                OAUTH_CLIENTS,
                format!("integration.name is \"{name}\" but tile.title is \"{title}\""),
            );
        }
    }
    if fields.description.is_some_and(|d| d.trim().is_empty()) {
        error(
            c,
            Rule::OAuthClientName,
            "integration.description is empty".to_owned(),
        );
    }
}

/// [`Rule::OAuthClientRole`]: `integration`.
fn client_role(c: &mut Checker<'_>, fields: &Fields<'_>) {
    if let Some(role) = fields.client_role
        && role != "integration"
    {
        error(
            c,
            Rule::OAuthClientRole,
            format!("integration.client_role is \"{role}\"; it must be \"integration\""),
        );
    }
}

/// [`Rule::OAuthClientUrls`]: an https onboarding URL and redirect URIs (no fragment in these),
/// at least one, each once.
fn client_urls(c: &mut Checker<'_>, fields: &Fields<'_>) {
    let client = &fields.client;
    if let Some(problem) = client
        .onboarding_url
        .and_then(|u| vocabulary::oauth_url_problem(u, false))
    {
        error(
            c,
            Rule::OAuthClientUrls,
            format!("integration.onboarding_url: {problem}"),
        );
    }
    let uris = client.redirect_uris.as_deref().unwrap_or_default();
    if client.redirect_uris.as_ref().is_some_and(Vec::is_empty) {
        error(
            c,
            Rule::OAuthClientUrls,
            "integration.redirect_uris is empty; list at least one".to_owned(),
        );
    }
    for (i, uri) in uris.iter().enumerate() {
        if let Some(problem) = vocabulary::oauth_url_problem(uri, true) {
            error(
                c,
                Rule::OAuthClientUrls,
                format!("integration.redirect_uris[{i}]: {problem}"),
            );
        }
        if uris[..i].contains(uri) {
            error(
                c,
                Rule::OAuthClientUrls,
                format!("integration.redirect_uris lists `{uri}` twice"),
            );
        }
    }
}

/// [`Rule::OAuthClientScopes`]: scope names, each once; a name outside the SDK's catalog is a
/// warning (Datadog grants scopes the catalog may not have yet).
fn client_scopes(c: &mut Checker<'_>, fields: &Fields<'_>) {
    let scopes = &fields.client.scopes;
    let list = scopes.as_deref().unwrap_or_default();
    if scopes.as_ref().is_some_and(Vec::is_empty) {
        error(
            c,
            Rule::OAuthClientScopes,
            "integration.scopes is empty; list the scopes the integration requests".to_owned(),
        );
    }
    for (i, scope) in list.iter().enumerate() {
        if list[..i].contains(scope) {
            error(
                c,
                Rule::OAuthClientScopes,
                format!("integration.scopes lists `{scope}` twice"),
            );
            continue;
        }
        match Scope::parse(scope) {
            Err(e) => error(
                c,
                Rule::OAuthClientScopes,
                format!("integration.scopes: {e}"),
            ),
            Ok(s) if !s.is_known() => c.warning(
                Rule::OAuthClientScopes,
                OAUTH_CLIENTS,
                format!(
                    "integration.scopes: `{scope}` is not in this SDK's catalog of Datadog \
                     scopes{}",
                    dd_integration::scope::suggest(scope)
                        .map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
                ),
            ),
            Ok(_) => {}
        }
    }
}
