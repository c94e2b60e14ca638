-- One row per HubSpot contact: its latest version as of `as_of` (CDC: latest updatedAt wins).
with source as (
    select * from {{ source('crm', 'contacts') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as contact_id,
        lower(trim({{ json_text('record', '$.properties.email') }})) as email,
        phone_e164,
        {{ json_text('record', '$.properties.firstname') }} as first_name,
        {{ json_text('record', '$.properties.lastname') }} as last_name,
        upper({{ json_text('record', '$.properties.country') }}) as country,
        lower({{ json_text('record', '$.properties.hs_language') }}) as language,
        {{ json_text('record', '$.properties.lifecyclestage') }} as lifecycle_stage,
        {{ json_text('record', '$.properties.customer_segment') }} as segment,
        {{ iso_to_utc(json_text('record', '$.properties.createdate')) }} as property_created_at,
        {{ iso_to_utc(json_text('record', '$.createdAt')) }} as record_created_at,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        coalesce(cast({{ json_text('record', '$.archived') }} as boolean), false) as is_archived,
        _dt,
        _file_path,
        _line_number
    from source
),

latest as (
    {{ latest_per_key('parsed', 'contact_id', 'updated_at desc, _dt desc, _file_path desc, _line_number desc') }}
)

select
    contact_id,
    email,
    phone_e164,
    first_name,
    last_name,
    country,
    language,
    lifecycle_stage,
    segment,
    coalesce(record_created_at, property_created_at) as created_at,
    updated_at,
    is_archived,
    _dt as exported_dt
from latest
