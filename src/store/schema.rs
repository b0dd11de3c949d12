//! Table definitions, identical on every backend (see `migrations/<backend>/`).

diesel::table! {
    tenants (id) {
        id -> BigInt,
        name -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        username -> Text,
        password_hash -> Text,
        permissions -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        token_hash -> Text,
        permissions -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        revoked -> Bool,
    }
}

diesel::table! {
    provisioning_profiles (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        name -> Text,
        default_profile -> Bool,
        locale -> Nullable<Text>,
        initial_core_plan_name -> Nullable<Text>,
        subscriber_class -> Nullable<Text>,
        subscriber_type -> Nullable<Text>,
        dps_enabled -> Bool,
        dps_notification -> Bool,
        eos_notification -> Bool,
        payg_notification -> Bool,
        revision -> BigInt,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(api_tokens -> tenants (tenant_id));
diesel::joinable!(provisioning_profiles -> tenants (tenant_id));

diesel::table! {
    catalogues (tenant_id) {
        tenant_id -> BigInt,
        version -> BigInt,
        document -> Text,
    }
}

diesel::table! {
    catalogue_profile_refs (tenant_id, profile_id, bundled_product_id) {
        tenant_id -> BigInt,
        profile_id -> BigInt,
        bundled_product_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    api_tokens,
    provisioning_profiles,
    catalogues,
    catalogue_profile_refs,
    changes
);

diesel::table! {
    changes (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        at_ms -> BigInt,
        actor_kind -> Text,
        actor_name -> Text,
        request_id -> Nullable<Text>,
        entity -> Text,
        entity_id -> Text,
        action -> Text,
        changed_fields -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        published -> Bool,
    }
}

diesel::table! {
    event_relay_lease (name) {
        name -> Text,
        holder -> Text,
        expires_at_ms -> BigInt,
    }
}

diesel::joinable!(changes -> tenants (tenant_id));

diesel::table! {
    console_sessions (secret_hash) {
        secret_hash -> Text,
        tenant_id -> BigInt,
        user_id -> BigInt,
        fingerprint -> Text,
        created_at_ms -> BigInt,
        last_seen_at_ms -> BigInt,
    }
}

diesel::joinable!(console_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(console_sessions, users);
diesel::allow_tables_to_appear_in_same_query!(console_sessions, tenants);

diesel::table! {
    idempotency_keys (scope_hash) {
        scope_hash -> Text,
        tenant_id -> BigInt,
        request_hash -> Text,
        created_at_ms -> BigInt,
        status -> Nullable<Integer>,
        answer -> Nullable<Text>,
        answer_bytes -> BigInt,
    }
}
