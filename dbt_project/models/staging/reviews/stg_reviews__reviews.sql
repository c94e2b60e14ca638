-- One row per review (a re-delivered review keeps its latest delivery), posted before the
-- end of `as_of`. Title, text and the reviewer's display name stay in the raw layer.
with source as (
    select * from {{ source('reviews', 'reviews') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as review_id,
        lower({{ json_text('record', '$.source') }}) as source,
        cast({{ json_text('record', '$.stars') }} as {{ dbt.type_int() }}) as stars,
        lower({{ json_text('record', '$.language') }}) as language,
        {{ iso_to_utc(json_text('record', '$.createdAt')) }} as created_at,
        lower(trim({{ json_text('record', '$.consumer.email') }})) as consumer_email,
        {{ json_text('record', '$.referenceId') }} as reference_id,
        {{ json_text('record', '$.productSku') }} as product_sku,
        cast({{ json_text('record', '$.isVerified') }} as boolean) as is_verified,
        _dt,
        _file_path,
        _line_number
    from source
),

deduplicated as (
    {{ latest_per_key('parsed', 'review_id', '_dt desc, _file_path desc, _line_number desc') }}
)

select review_id, source, stars, language, created_at, consumer_email, reference_id, product_sku, is_verified
from deduplicated
where created_at < {{ as_of_end() }}
