-- One row per Segment track call (messageId): its first delivery. `occurred_at` is the
-- device's `timestamp` converted from its UTC offset to UTC; `received_dt` is the dt=
-- folder it arrived in, which can be days after it happened.
-- Incremental (delete+insert on message_id, strategy `first_delivery` in
-- macros/incremental.sql): a run re-reads only its window of dt= days plus the late-data
-- lookback, and writes only the messages it stores for the first time, or whose delivery
-- it reads came before the one stored (a re-delivered older file): the first delivery
-- still wins, so an incremental run gives the same table as a full refresh, and a re-read
-- delivery that changes nothing is not rewritten. Not filtered by as_of: the as_of cut
-- happens in intermediate models.
{{ config(
    materialized='incremental',
    unique_key='message_id',
    on_schema_change='fail',
    **incremental_on('first_delivery', partition_by='received_dt'),
) }}

with source as (
    select * from {{ source('cart_events', 'tracks') }}
    where {{ incremental_dt_filter('_dt', 'received_dt') }}
),

{% if is_incremental() %}
deliveries as (
    select source.*
    from source
    left join {{ this }} as held on source.record_id = held.message_id
    where held.message_id is null
        or {{ delivered_before('source._dt', 'source._file_path', 'source._line_number',
                               'held.received_dt', 'held.source_file_path', 'held.source_line_number') }}
),
{% else %}
deliveries as (
    select * from source
),
{% endif %}

parsed as (
    select
        record_id as message_id,
        {{ json_text('record', '$.event') }} as event_name,
        {{ json_text('record', '$.anonymousId') }} as anonymous_id,
        {{ json_text('record', '$.userId') }} as user_id,
        {{ landing_cast('record', 'cart_events__tracks', '$.timestamp') }} as occurred_at,
        {{ landing_cast('record', 'cart_events__tracks', '$.receivedAt') }} as received_at,
        lower({{ json_text('record', '$.context.device.type') }}) as device_type,
        {{ json_text('record', '$.context.locale') }} as locale,
        {{ normalise_email(json_text('record', '$.context.traits.email')) }} as traits_email,
        {{ json_text('record', '$.properties.cart_id') }} as cart_id,
        {{ json_text('record', '$.properties.order_id') }} as order_id,
        {{ json_text('record', '$.properties.checkout_id') }} as checkout_id,
        {{ json_text('record', '$.properties.product_id') }} as product_id,
        {{ json_text('record', '$.properties.category') }} as category,
        {{ landing_cast('record', 'cart_events__tracks', '$.properties.price') }} as price,
        {{ landing_cast('record', 'cart_events__tracks', '$.properties.quantity') }} as quantity,
        {{ landing_cast('record', 'cart_events__tracks', '$.properties.revenue') }} as revenue,
        {{ landing_cast('record', 'cart_events__tracks', '$.properties.total') }} as total,
        {{ landing_cast('record', 'cart_events__tracks', '$.properties.value') }} as checkout_value,
        upper({{ json_text('record', '$.properties.currency') }}) as currency_code,
        _dt as received_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from deliveries
),

first_deliveries as (
    {{ latest_per_key('parsed', 'message_id', 'received_dt asc, source_file_path asc, source_line_number asc') }}
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
    received_dt,
    source_file_path,
    source_line_number
from first_deliveries
{{ full_refresh_order_by('received_dt') }}
