-- One row per HubSpot owner (support agent): the newest snapshot as of `as_of`.
with source as (
    select * from {{ source('crm', 'owners') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as owner_id,
        lower(trim({{ json_text('record', '$.email') }})) as email,
        {{ json_text('record', '$.firstName') }} as first_name,
        {{ json_text('record', '$.lastName') }} as last_name,
        coalesce(cast({{ json_text('record', '$.archived') }} as boolean), false) as is_archived,
        _dt,
        _file_path,
        _line_number
    from source
),

latest as (
    {{ latest_per_key('parsed', 'owner_id', '_dt desc, _file_path desc, _line_number desc') }}
)

select owner_id, email, first_name, last_name, is_archived
from latest
