"""The analyzer rules, one per module. The import list below is the registry's order."""

from bot.analyze.rules import (  # noqa: F401  (imported for their @rule registration)
    browser_flow_non_browser_client,
    config_keys,
    config_values,
    continue_with_transitions,
    csrf_from_other_flow,
    error_details,
    fallback_ui_url,
    host_missing_slash,
    identity_mismatch_session,
    live_secrets,
    malformed_flow_id,
    request_admin_port,
    request_body,
    request_endpoint,
    request_flow_type,
    schema_code_identifier,
    schema_extension,
    second_factor_in_aal1_flow,
    set_cookie_attributes,
)
