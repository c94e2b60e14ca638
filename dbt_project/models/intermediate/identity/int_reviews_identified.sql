-- One row per review with its contact: referenceId -> order -> contact, else the
-- reviewer's email (CONTRACT §2).
with reviews as (
    select * from {{ ref('stg_reviews__reviews') }}
),

orders as (
    select external_order_id, customer_id
    from {{ ref('int_orders_converted') }}
    where external_order_id is not null and customer_id is not null
),

order_owners as (
    -- an external id is unique per shop; keep one owner if a CRM holds duplicates
    select external_order_id, min(customer_id) as customer_id
    from orders
    group by external_order_id
),

customers as (
    select * from {{ ref('int_customers_resolvable') }}
    where email_key is not null
)

select
    reviews.*,
    coalesce(order_owners.customer_id, customers.customer_id) as customer_id
from reviews
left join order_owners on reviews.reference_id = order_owners.external_order_id
left join customers on reviews.consumer_email = customers.email_key
