//! Routes grouped by resource. Each module holds its request shapes and its
//! documented handlers, and lists them once with [`endpoints!`]: the path
//! and methods of each route are read from its `#[utoipa::path]`, so a path
//! is spelled in one place, and the module's part of the OpenAPI document
//! comes from the same list. A handler builds a command from the request
//! and runs one use case from [`crate::ops`].

/// Lists a module's documented handlers, in matching order (a literal path
/// before a `{param}` one it overlaps). Makes `Api`, the module's OpenAPI
/// paths (and the tags it introduces, after `; tags:`), and `endpoints()`,
/// its routes. `handler: limited` puts a route
/// behind the per-address limit of the sign-in and token endpoints.
macro_rules! endpoints {
    (
        $($handler:ident $(: $flag:ident)?),* $(,)?
        $(; tags: $(($tag:literal, $about:literal)),+ $(,)?)?
    ) => {
        /// This module's part of the OpenAPI document.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($handler),*) $(, tags($((name = $tag, description = $about)),+))?)]
        pub struct Api;

        /// This module's routes, in matching order.
        pub fn endpoints() -> Vec<$crate::routes::Endpoint> {
            vec![$(
                $crate::routes::Endpoint::of::<paste::paste!([<__path_ $handler>])>(
                    || actix_web::web::route().to($handler),
                )$(.$flag())?
            ),*]
        }
    };
}

pub mod access;
pub mod accounts;
pub mod admin;
pub mod asset_invitations;
pub mod assets;
pub mod changes;
pub mod collaborators;
pub mod estates;
pub mod files;
pub mod health;
pub mod households;
pub mod invitations;
pub(crate) mod links;
pub mod me;
pub mod metrics;
pub mod pages;
pub mod photos;
pub mod records;
pub mod sessions;
pub mod shares;
pub mod webhooks;

use actix_web::http::Method;
use actix_web::{HttpResponse, Route};
use serde::Serialize;
use utoipa::openapi::path::HttpMethod;

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::common::Located;
use actix_web::http::header::LOCATION;

/// What a handler answers.
pub type Reply = Result<HttpResponse, ApiError>;

/// A path that names two ids, such as `/estates/{estate_id}/members/{user_id}`.
pub type IdPair = actix_web::web::Path<(uuid::Uuid, uuid::Uuid)>;

/// 200 with the use case's view as JSON.
pub fn ok<T: Serialize>(view: Result<T, ApiError>) -> Reply {
    view.map(|v| HttpResponse::Ok().json(v))
}

/// 200 with one page of a list as JSON and its `Link` header (the next
/// page; when paging by number also the previous, first and last ones).
pub fn listed<T: Serialize + utoipa::ToSchema>(
    ctx: &crate::ctx::Ctx,
    page: Result<crate::views::common::CursorPage<T>, ApiError>,
) -> Reply {
    page.map(|p| {
        let mut answer = HttpResponse::Ok();
        if let Some(link) = links::header(ctx.request().uri(), &p) {
            answer.insert_header((actix_web::http::header::LINK, link));
        }
        answer.json(p)
    })
}

/// 200 with a whole list as an attachment named `<name>-<date>.csv` (or
/// `.json`): a CSV table, or the items with their count and the time of the
/// export. Not stored by caches (`Cache-Control: no-store`).
pub fn exported<T>(
    ctx: &crate::ctx::Ctx,
    format: crate::views::wire::ExportFormat,
    name: &str,
    items: Result<Vec<T>, ApiError>,
) -> Reply
where
    T: Serialize + utoipa::ToSchema + crate::views::exports::CsvRow,
{
    use crate::views::exports::{ExportDocument, csv};
    use crate::views::wire::ExportFormat;
    use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
    let items = items?;
    let now = ctx.now();
    let file = format!("{name}-{}.{}", now.format("%Y-%m-%d"), format.as_str());
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")))
        .insert_header((CACHE_CONTROL, "no-store"));
    Ok(match format {
        ExportFormat::Csv => answer.content_type("text/csv; charset=utf-8").body(csv(&items)?),
        ExportFormat::Json => {
            answer.json(ExportDocument { count: items.len(), items, exported_at: now })
        }
    })
}

/// 201 with the created resource's view as JSON and its `Location`.
pub fn created<T: Serialize + Located>(view: Result<T, ApiError>) -> Reply {
    view.map(|v| HttpResponse::Created().insert_header((LOCATION, v.location())).json(v))
}

/// 201 with the view as JSON and `location` as its `Location` (for a view
/// that does not know its own path).
pub fn created_at<T: Serialize>(location: String, view: Result<T, ApiError>) -> Reply {
    view.map(|v| HttpResponse::Created().insert_header((LOCATION, location)).json(v))
}

/// 204: done, nothing to show.
pub fn done<T>(outcome: Result<T, ApiError>) -> Reply {
    outcome.map(|_| HttpResponse::NoContent().finish())
}

/// 202 with the view as JSON: taken on, the rest follows by email.
pub fn accepted<T: Serialize>(view: Result<T, ApiError>) -> Reply {
    view.map(|v| HttpResponse::Accepted().json(v))
}

/// Where a sign-in comes from: the `User-Agent` it sent and the client
/// address (as the trusted proxies tell it).
pub fn client_info(
    req: &actix_web::HttpRequest,
    state: &AppState,
) -> crate::ops::sessions::ClientInfo {
    let agent =
        req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    let address = state.proxies.client_ip(req.peer_addr().map(|a| a.ip()), req.headers());
    crate::ops::sessions::ClientInfo::new(agent, address.map(|a| a.to_string()))
}

/// The outcome of a use case that queues email, passed on; when it
/// succeeded, the mail worker is told that rows are waiting.
pub fn mailed<T>(state: &AppState, outcome: Result<T, ApiError>) -> Result<T, ApiError> {
    if outcome.is_ok() {
        state.mail_queued();
    }
    outcome
}

/// One documented route: where and how it is served, and how to build its
/// actix route (once per worker).
pub struct Endpoint {
    pub path: String,
    methods: Vec<HttpMethod>,
    route: fn() -> Route,
    /// Behind the per-address limit of the sign-in and token endpoints.
    pub limited: bool,
}

impl Endpoint {
    pub fn of<P: utoipa::Path>(route: fn() -> Route) -> Self {
        Self { path: P::path(), methods: P::methods(), route, limited: false }
    }

    #[must_use]
    pub fn limited(mut self) -> Self {
        self.limited = true;
        self
    }

    /// The actix routes: one per documented method.
    pub fn routes(&self) -> impl Iterator<Item = Route> + '_ {
        self.methods.iter().map(|m| (self.route)().method(method(m)))
    }
}

fn method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// Every documented route, in matching order.
pub fn endpoints() -> Vec<Endpoint> {
    [
        accounts::endpoints(),
        me::endpoints(),
        sessions::endpoints(),
        estates::endpoints(),
        invitations::endpoints(),
        assets::endpoints(),
        records::endpoints(),
        photos::endpoints(),
        files::endpoints(),
        collaborators::endpoints(),
        asset_invitations::endpoints(),
        shares::endpoints(),
        access::endpoints(),
        changes::endpoints(),
        webhooks::endpoints(),
        households::endpoints(),
        admin::endpoints(),
        pages::endpoints(),
        health::endpoints(),
        metrics::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every module's part of the OpenAPI document, merged.
pub fn documented_paths() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    let mut doc = accounts::Api::openapi();
    for part in [
        me::Api::openapi(),
        sessions::Api::openapi(),
        estates::Api::openapi(),
        invitations::Api::openapi(),
        assets::Api::openapi(),
        records::Api::openapi(),
        photos::Api::openapi(),
        files::Api::openapi(),
        collaborators::Api::openapi(),
        asset_invitations::Api::openapi(),
        shares::Api::openapi(),
        access::Api::openapi(),
        changes::Api::openapi(),
        webhooks::Api::openapi(),
        households::Api::openapi(),
        admin::Api::openapi(),
        pages::Api::openapi(),
        health::Api::openapi(),
        metrics::Api::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

/// The endpoints grouped by path, each path where it first appears: one
/// actix resource per path, with a route per method, so a method the path
/// does not serve is 405.
pub fn by_path(all: Vec<Endpoint>) -> Vec<(String, Vec<Endpoint>)> {
    let mut groups: Vec<(String, Vec<Endpoint>)> = Vec::new();
    for e in all {
        match groups.iter_mut().find(|(p, _)| *p == e.path) {
            Some((_, group)) => group.push(e),
            None => groups.push((e.path.clone(), vec![e])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use actix_web::dev::ResourceDef;

    use super::*;

    fn operations(item: &utoipa::openapi::PathItem) -> usize {
        [
            &item.get,
            &item.put,
            &item.post,
            &item.delete,
            &item.options,
            &item.head,
            &item.patch,
            &item.trace,
        ]
        .iter()
        .filter(|op| op.is_some())
        .count()
    }

    #[test]
    fn every_documented_operation_is_routed_once_and_every_route_documented() {
        let doc = documented_paths();
        let mut routed = HashSet::new();
        for e in endpoints() {
            let item = doc.paths.paths.get(&e.path);
            assert!(item.is_some(), "{} is routed but not documented", e.path);
            for m in &e.methods {
                let key = (e.path.clone(), method(m));
                assert!(routed.insert(key), "{} {} is listed twice", method(m), e.path);
            }
        }
        let documented: usize = doc.paths.paths.values().map(operations).sum();
        assert_eq!(documented, routed.len(), "documented operations not routed");
    }

    #[test]
    fn no_path_is_shadowed_by_one_listed_before_it() {
        let paths: Vec<String> = by_path(endpoints()).into_iter().map(|(p, _)| p).collect();
        for (i, later) in paths.iter().enumerate() {
            // A concrete request for the later path: each `{param}` filled.
            let concrete: String = later
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for earlier in &paths[..i] {
                assert!(
                    !ResourceDef::new(earlier.as_str()).is_match(&concrete),
                    "{earlier} is listed before {later} and would answer its requests"
                );
            }
        }
    }
}
