-- One row per Segment track call (messageId; a re-sent event keeps its first delivery),
-- that happened and arrived before the end of `as_of`. `occurred_at` is the device's
-- `timestamp` converted from its UTC offset to UTC.
with source as (
    select * from {{ source('cart_events', 'tracks') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as message_id,
        {{ json_text('record', '$.event') }} as event_name,
        {{ json_text('record', '$.anonymousId') }} as anonymous_id,
        {{ json_text('record', '$.userId') }} as user_id,
        {{ iso_to_utc(json_text('record', '$.timestamp')) }} as occurred_at,
        {{ iso_to_utc(json_text('record', '$.receivedAt')) }} as received_at,
        lower({{ json_text('record', '$.context.device.type') }}) as device_type,
        {{ json_text('record', '$.context.locale') }} as locale,
        lower(trim({{ json_text('record', '$.context.traits.email') }})) as traits_email,
        {{ json_text('record', '$.properties.cart_id') }} as cart_id,
        {{ json_text('record', '$.properties.order_id') }} as order_id,
        {{ json_text('record', '$.properties.checkout_id') }} as checkout_id,
        {{ json_text('record', '$.properties.product_id') }} as product_id,
        {{ json_text('record', '$.properties.category') }} as category,
        cast({{ json_text('record', '$.properties.price') }} as {{ dbt.type_float() }}) as price,
        cast({{ json_text('record', '$.properties.quantity') }} as {{ dbt.type_int() }}) as quantity,
        cast({{ json_text('record', '$.properties.revenue') }} as {{ dbt.type_float() }}) as revenue,
        cast({{ json_text('record', '$.properties.total') }} as {{ dbt.type_float() }}) as total,
        cast({{ json_text('record', '$.properties.value') }} as {{ dbt.type_float() }}) as checkout_value,
        upper({{ json_text('record', '$.properties.currency') }}) as currency_code,
        _dt,
        _file_path,
        _line_number
    from source
),

deduplicated as (
    {{ latest_per_key('parsed', 'message_id', '_dt asc, _file_path asc, _line_number asc') }}
)

select
    message_id,
    event_name,
    anonymous_id,
    user_id,
    occurred_at,
    received_at,
    device_type,
    locale,
    traits_email,
    cart_id,
    order_id,
    checkout_id,
    product_id,
    category,
    price,
    quantity,
    revenue,
    total,
    checkout_value,
    currency_code,
    _dt as received_dt
from deduplicated
where occurred_at < {{ as_of_end() }}
