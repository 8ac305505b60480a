//! Diesel table definitions, shared by both backends (the migrations under
//! `migrations/sqlite` and `migrations/postgres` create the same columns).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        username -> Text,
        username_canonical -> Text,
        display_name -> Text,
        password_hash -> Text,
        is_root -> Bool,
        email_verified_at -> Nullable<Timestamp>,
        credentials_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        email -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        created_at -> Timestamp,
        seq -> BigInt,
        txid -> BigInt,
        subject_id -> Nullable<Text>,
    }
}

diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(audit_events -> users (actor_id));
diesel::allow_tables_to_appear_in_same_query!(users, email_tokens, mail_outbox, audit_events);

diesel::table! {
    estates (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        estate_id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    estate_members (estate_id, user_id) {
        estate_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    site_overrides (site_id, user_id) {
        site_id -> Text,
        user_id -> Text,
        estate_id -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(sites -> estates (estate_id));
diesel::joinable!(estate_members -> estates (estate_id));
diesel::joinable!(estate_members -> users (user_id));
diesel::joinable!(site_overrides -> sites (site_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    estates,
    sites,
    estate_members,
    site_overrides
);

diesel::table! {
    invitations (id) {
        id -> Text,
        resource_type -> Text,
        resource_id -> Text,
        email -> Text,
        role -> Text,
        message -> Nullable<Text>,
        status -> Text,
        token_hash -> Text,
        invited_by -> Text,
        invited_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        access_expires_at -> Nullable<Timestamp>,
        last_sent_at -> Timestamp,
        resend_count -> Integer,
        responded_at -> Nullable<Timestamp>,
        responded_by -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(invitations, users);
diesel::allow_tables_to_appear_in_same_query!(invitations, estates);

diesel::table! {
    assets (id) {
        id -> Text,
        name -> Text,
        reference -> Nullable<Text>,
        search_text -> Text,
        attributes -> Text,
        site_id -> Nullable<Text>,
        estate_id -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    asset_collaborators (asset_id, user_id) {
        asset_id -> Text,
        user_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    asset_records (id) {
        id -> Text,
        asset_id -> Text,
        kind -> Text,
        record_date -> Date,
        title -> Text,
        notes -> Nullable<Text>,
        cost -> Nullable<Double>,
        odometer -> Nullable<BigInt>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    asset_photos (id) {
        id -> Text,
        asset_id -> Text,
        url -> Text,
        caption -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    household_members (head_id, member_id) {
        head_id -> Text,
        member_id -> Text,
        role -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    asset_shares (asset_id, user_id) {
        asset_id -> Text,
        user_id -> Text,
        permission -> Text,
        access_expires_at -> Nullable<Timestamp>,
        granted_at -> Timestamp,
        invitation_id -> Nullable<Text>,
    }
}

diesel::joinable!(asset_collaborators -> assets (asset_id));
diesel::joinable!(asset_collaborators -> users (user_id));
diesel::joinable!(asset_records -> assets (asset_id));
diesel::joinable!(asset_photos -> assets (asset_id));
diesel::joinable!(asset_shares -> assets (asset_id));
diesel::allow_tables_to_appear_in_same_query!(
    assets,
    asset_collaborators,
    asset_records,
    asset_photos,
    household_members,
    asset_shares
);
diesel::allow_tables_to_appear_in_same_query!(assets, users);
diesel::allow_tables_to_appear_in_same_query!(asset_collaborators, users);
diesel::allow_tables_to_appear_in_same_query!(household_members, users);
diesel::allow_tables_to_appear_in_same_query!(asset_shares, users);
diesel::allow_tables_to_appear_in_same_query!(assets, sites);
diesel::allow_tables_to_appear_in_same_query!(assets, estates);
diesel::allow_tables_to_appear_in_same_query!(assets, estate_members);
diesel::allow_tables_to_appear_in_same_query!(assets, site_overrides);
diesel::allow_tables_to_appear_in_same_query!(asset_shares, invitations);
diesel::allow_tables_to_appear_in_same_query!(assets, invitations);

diesel::table! {
    asset_history_readers (user_id, asset_id) {
        user_id -> Text,
        asset_id -> Text,
        deleted_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> Text,
        idem_key -> Text,
        request -> Text,
        body_hash -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        user_agent -> Nullable<Text>,
        address -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(sessions, refresh_tokens);

diesel::table! {
    email_changes (id) {
        id -> Text,
        user_id -> Text,
        new_email -> Text,
        old_email -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notification_settings (user_id) {
        user_id -> Text,
        access_granted -> Bool,
        access_reduced -> Bool,
        access_expiring -> Bool,
        invitation_expiring -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    expiry_reminders (kind, subject, other, due_at) {
        kind -> Text,
        subject -> Text,
        other -> Text,
        due_at -> Timestamp,
        sent_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(expiry_reminders, asset_shares);
diesel::allow_tables_to_appear_in_same_query!(expiry_reminders, assets);
diesel::allow_tables_to_appear_in_same_query!(expiry_reminders, invitations);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        owner_id -> Text,
        estate_id -> Nullable<Text>,
        url -> Text,
        description -> Text,
        events -> Text,
        secret -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failures -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        action -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        redelivery_of -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_deliveries);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, users);

diesel::table! {
    share_expiries (asset_id, user_id, expired_at) {
        asset_id -> Text,
        user_id -> Text,
        expired_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(share_expiries, asset_shares);

diesel::table! {
    invitation_batch_rows (invitation_id) {
        invitation_id -> Text,
        batch_id -> Text,
    }
}

diesel::table! {
    invitation_batch_recipients (batch_id, email) {
        batch_id -> Text,
        email -> Text,
        token_hash -> Text,
    }
}

diesel::table! {
    invitation_batch_mailings (id) {
        id -> Text,
        batch_id -> Text,
        email -> Text,
        sent_by -> Text,
        sent_at -> Timestamp,
        rows_covered -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(invitation_batch_rows, invitations);
diesel::allow_tables_to_appear_in_same_query!(invitation_batch_rows, users);
diesel::allow_tables_to_appear_in_same_query!(invitation_batch_recipients, invitations);

diesel::table! {
    asset_files (id) {
        id -> Text,
        asset_id -> Text,
        name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        caption -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    file_deletions (storage_key) {
        storage_key -> Text,
        due_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(asset_files, assets);
