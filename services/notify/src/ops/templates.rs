//! Message templates: read by anyone who administers notifications, edited
//! only by a county admin whose scope is everything (the system
//! administrator): templates are one set shared by every county, so a
//! county-scoped admin editing them would change what other counties'
//! people read. An edit is checked against the kind's placeholders.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::require_text,
};
use zoufang_proto::notify::v1::*;

use super::{State, view};
use crate::{
    domain::template,
    store::{self, templates::TemplateRow},
};

/// Who may edit templates: a county admin whose scope is everything.
pub fn require_template_editor(claims: &Claims) -> ServiceResult<()> {
    claims.require_any_role(&[roles::COUNTY_ADMIN])?;
    if !claims.scope.is_empty() {
        return Err(ServiceError::PermissionDenied(format!(
            "templates are shared by every county: only an administrator whose scope is everything may edit them (yours is {:?})",
            claims.scope
        )));
    }
    Ok(())
}

/// Every template.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    _req: ListTemplatesRequest,
) -> ServiceResult<ListTemplatesResponse> {
    claims.require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN, roles::SERVICE])?;
    let rows = store::templates::list(&state.pool).await?;
    Ok(ListTemplatesResponse {
        templates: rows.iter().map(view::template).collect(),
    })
}

/// Replaces a template's texts; takes effect with the next message.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn update(
    state: &State,
    claims: &Claims,
    req: UpdateTemplateRequest,
) -> ServiceResult<UpdateTemplateResponse> {
    require_template_editor(claims)?;
    let t = req
        .template
        .ok_or_else(|| ServiceError::invalid("template", "required"))?;
    let kind = require_text("template.kind", &t.kind, 64)?;
    let title = require_text("template.title", &t.title, 200)?;
    let body = require_text("template.body", &t.body, 2000)?;
    if t.sms_body.chars().count() > 300 {
        return Err(ServiceError::invalid(
            "template.sms_body",
            "at most 300 characters",
        ));
    }
    template::validate(&kind, "template.title", &title)?;
    template::validate(&kind, "template.body", &body)?;
    template::validate(&kind, "template.sms_body", &t.sms_body)?;
    let row = TemplateRow {
        kind: kind.clone(),
        title,
        body,
        sms_body: t.sms_body.clone(),
        version: 0,
        updated_at: state.clock.now(),
        updated_by: claims.sub.clone(),
    };
    match store::templates::update(&state.pool, &row, req.expected_version).await? {
        Some(saved) => Ok(UpdateTemplateResponse {
            template: Some(view::template(&saved)),
        }),
        None if store::templates::get(&state.pool, &kind).await?.is_some() => {
            Err(ServiceError::Aborted(format!(
                "template {kind} changed since version {}; re-read it",
                req.expected_version
            )))
        }
        None => Err(ServiceError::NotFound(format!("template {kind}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str], scope: &str) -> Claims {
        serde_json::from_value(serde_json::json!({
            "sub": "u", "roles": roles, "scope": scope, "exp": 0
        }))
        .expect("claims")
    }

    #[test]
    fn only_an_admin_of_everything_edits_the_shared_templates() {
        assert!(require_template_editor(&claims(&[roles::COUNTY_ADMIN], "")).is_ok());
        let county = require_template_editor(&claims(&[roles::COUNTY_ADMIN], "430426"));
        assert!(matches!(county, Err(ServiceError::PermissionDenied(_))));
        assert!(require_template_editor(&claims(&[roles::TOWNSHIP_ADMIN], "")).is_err());
    }
}
