-- One row per calendar month, from the month of the first counted order to the month of
-- `as_of`. Only counted (not cancelled) orders. A repeat order is one from a customer with
-- a strictly earlier counted order; an order with no identified customer counts in `orders`
-- but can never be a repeat. A returning customer orders this month and had a counted
-- order in an earlier month. Cross-sell: a returning customer whose order this month holds
-- a category they never bought before (strictly earlier, in any month, this one included).
-- Upsell: a returning customer whose order this month holds a category they bought before
-- (strictly earlier, this month included) at a unit price above every earlier purchase of
-- theirs in that category: compared in the orders' own currency when both orders are in the
-- same currency (an exchange-rate drift is no upsell), else in the reporting currency; an
-- equal price is not an upsell. Lines of category 'unknown' (product not found) are
-- neither. Rates divide by returning customers. docs/metrics.md has worked examples.
with orders as (
    select * from {{ ref('int_orders_converted') }}
    where is_counted
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where customer_id is not null
),

orders_by_month as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.net_revenue,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as month_start
    from orders
),

customer_first_orders as (
    select
        customer_id,
        min(ordered_at) as first_ordered_at,
        min(month_start) as first_order_month
    from orders_by_month
    where customer_id is not null
    group by customer_id
),

orders_classified as (
    -- strictly earlier: an order at the customer's first timestamp is never a repeat,
    -- even when another order shares that timestamp
    select
        orders_by_month.order_id,
        orders_by_month.customer_id,
        orders_by_month.month_start,
        orders_by_month.net_revenue,
        coalesce(orders_by_month.ordered_at > customer_first_orders.first_ordered_at, false) as is_repeat
    from orders_by_month
    left join customer_first_orders on orders_by_month.customer_id = customer_first_orders.customer_id
),

category_moments as (
    -- one row per customer x category x purchase moment, so that a window frame ending at
    -- the previous row holds exactly the strictly earlier purchases (cross-sell)
    select
        order_lines.customer_id,
        order_lines.category,
        order_lines.ordered_at,
        cast({{ dbt.date_trunc('month', 'order_lines.order_date') }} as date) as month_start
    from order_lines
    where order_lines.category <> 'unknown'
    group by
        order_lines.customer_id,
        order_lines.category,
        order_lines.ordered_at,
        cast({{ dbt.date_trunc('month', 'order_lines.order_date') }} as date)
),

category_first_moments as (
    select
        customer_id,
        category,
        min(ordered_at) as first_ordered_at
    from category_moments
    group by customer_id, category
),

category_moments_with_history as (
    -- the customer's first moment in the category has no earlier purchase of it (a moment
    -- without a time is the first only when the category has no other)
    select
        category_moments.*,
        coalesce(
            category_moments.ordered_at = category_first_moments.first_ordered_at,
            category_first_moments.first_ordered_at is null
        ) as is_first_purchase
    from category_moments
    inner join category_first_moments
        on category_moments.customer_id = category_first_moments.customer_id
            and category_moments.category = category_first_moments.category
),

category_purchases as (
    -- one row per customer x category x purchase moment x currency, with the highest unit
    -- price of that moment both as the orders state it and in the reporting currency
    select
        order_lines.customer_id,
        order_lines.category,
        order_lines.ordered_at,
        order_lines.currency_code,
        max(order_lines.unit_price_order_currency) as max_own_price,
        max(order_lines.unit_price) as max_reporting_price
    from order_lines
    where order_lines.category <> 'unknown'
    group by order_lines.customer_id, order_lines.category, order_lines.ordered_at, order_lines.currency_code
),

category_currencies as (
    -- whether the customer bought the category in more than one currency
    select
        customer_id,
        category,
        min(currency_code) <> max(currency_code) as has_several_currencies
    from category_purchases
    group by customer_id, category
),

category_purchases_with_history as (
    -- earlier purchases in the same currency compare in that currency (an exchange-rate
    -- drift is no upsell); whether the category was ever bought in another currency decides
    -- whether the (rarer) comparison in the reporting currency is needed at all
    select
        category_purchases.*,
        max(category_purchases.max_own_price) over (
            partition by category_purchases.customer_id, category_purchases.category, category_purchases.currency_code
            order by category_purchases.ordered_at
            rows between unbounded preceding and 1 preceding
        ) as earlier_same_currency_max_price,
        category_currencies.has_several_currencies
    from category_purchases
    inner join category_currencies
        on category_purchases.customer_id = category_currencies.customer_id
            and category_purchases.category = category_currencies.category
),

mixed_currency_purchases as (
    select * from category_purchases_with_history
    where has_several_currencies
),

earlier_other_currency_prices as (
    -- highest earlier price (reporting currency) of the category in any other currency
    select
        later.customer_id,
        later.category,
        later.ordered_at,
        later.currency_code,
        max(earlier.max_reporting_price) as earlier_other_currency_max_price
    from mixed_currency_purchases as later
    inner join mixed_currency_purchases as earlier
        on later.customer_id = earlier.customer_id
            and later.category = earlier.category
            and later.currency_code <> earlier.currency_code
            and later.ordered_at > earlier.ordered_at
    group by later.customer_id, later.category, later.ordered_at, later.currency_code
),

purchase_upsells as (
    -- a purchase is an upsell when the category was bought before and its price beats
    -- every earlier purchase: same-currency ones in that currency, others in the reporting
    -- currency (a null price compares as no upsell)
    select
        purchases.customer_id,
        purchases.category,
        purchases.ordered_at,
        coalesce(
            (
                purchases.earlier_same_currency_max_price is not null
                or other.earlier_other_currency_max_price is not null
            )
            and (
                purchases.earlier_same_currency_max_price is null
                or purchases.max_own_price > purchases.earlier_same_currency_max_price
            )
            and (
                other.earlier_other_currency_max_price is null
                or purchases.max_reporting_price > other.earlier_other_currency_max_price
            ),
            false
        ) as is_higher_price
    from category_purchases_with_history as purchases
    left join earlier_other_currency_prices as other
        on purchases.customer_id = other.customer_id
            and purchases.category = other.category
            and purchases.ordered_at = other.ordered_at
            and purchases.currency_code = other.currency_code
),

customer_month_signals as (
    select
        moments.customer_id,
        moments.month_start,
        max(case when moments.is_first_purchase then 1 else 0 end) as has_new_category,
        max(case when upsells.is_higher_price then 1 else 0 end) as has_higher_price
    from category_moments_with_history as moments
    left join purchase_upsells as upsells
        on moments.customer_id = upsells.customer_id
            and moments.category = upsells.category
            and moments.ordered_at = upsells.ordered_at
    group by moments.customer_id, moments.month_start
),

customer_months as (
    select
        orders_classified.customer_id,
        orders_classified.month_start,
        max(case when customer_first_orders.first_order_month < orders_classified.month_start then 1 else 0 end)
            as is_returning,
        max(case when customer_first_orders.first_order_month = orders_classified.month_start then 1 else 0 end)
            as is_new
    from orders_classified
    inner join customer_first_orders on orders_classified.customer_id = customer_first_orders.customer_id
    group by orders_classified.customer_id, orders_classified.month_start
),

customer_months_flagged as (
    select
        customer_months.customer_id,
        customer_months.month_start,
        customer_months.is_returning,
        customer_months.is_new,
        case when customer_months.is_returning = 1 then coalesce(customer_month_signals.has_new_category, 0) else 0 end
            as is_cross_sell,
        case when customer_months.is_returning = 1 then coalesce(customer_month_signals.has_higher_price, 0) else 0 end
            as is_upsell
    from customer_months
    left join customer_month_signals
        on customer_months.customer_id = customer_month_signals.customer_id
            and customer_months.month_start = customer_month_signals.month_start
),

order_counts as (
    select
        month_start,
        count(*) as orders,
        sum(case when is_repeat then 1 else 0 end) as repeat_orders,
        sum(case when is_repeat then net_revenue else 0 end) as repeat_revenue,
        sum(net_revenue) as net_revenue
    from orders_classified
    group by month_start
),

customer_counts as (
    select
        month_start,
        count(*) as customers_ordering,
        sum(is_returning) as returning_customers,
        sum(is_new) as new_customers,
        sum(is_cross_sell) as cross_sell_customers,
        sum(is_upsell) as upsell_customers
    from customer_months_flagged
    group by month_start
),

months as (
    {{ month_spine('(select min(month_start) from orders_by_month)', as_of_date()) }}
),

monthly as (
    select
        months.month_start,
        cast(coalesce(order_counts.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(order_counts.repeat_orders, 0) as {{ dbt.type_bigint() }}) as repeat_orders,
        cast(coalesce(order_counts.repeat_revenue, 0) as {{ dbt.type_numeric() }}) as repeat_revenue,
        cast(coalesce(order_counts.net_revenue, 0) as {{ dbt.type_numeric() }}) as net_revenue,
        cast(coalesce(customer_counts.customers_ordering, 0) as {{ dbt.type_bigint() }}) as customers_ordering,
        cast(coalesce(customer_counts.returning_customers, 0) as {{ dbt.type_bigint() }}) as returning_customers,
        cast(coalesce(customer_counts.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(customer_counts.cross_sell_customers, 0) as {{ dbt.type_bigint() }}) as cross_sell_customers,
        cast(coalesce(customer_counts.upsell_customers, 0) as {{ dbt.type_bigint() }}) as upsell_customers
    from months
    left join order_counts on months.month_start = order_counts.month_start
    left join customer_counts on months.month_start = customer_counts.month_start
),

rated as (
    select
        monthly.*,
        {{ safe_divide('monthly.repeat_orders', 'monthly.orders') }} as repeat_order_rate,
        {{ safe_divide('monthly.cross_sell_customers', 'monthly.returning_customers') }} as cross_sell_rate,
        {{ safe_divide('monthly.upsell_customers', 'monthly.returning_customers') }} as upsell_rate
    from monthly
)

select
    month_start,
    orders,
    repeat_orders,
    repeat_revenue,
    repeat_order_rate,
    customers_ordering,
    returning_customers,
    cross_sell_customers,
    upsell_customers,
    cross_sell_rate,
    upsell_rate,
    new_customers,
    net_revenue
from rated
