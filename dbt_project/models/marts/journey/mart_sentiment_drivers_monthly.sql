-- One row per month (of the later opinion of a pair) x interaction kind: did customers who
-- had that interaction between two consecutive opinions shift down (or up) more often than
-- those who did not? From fct_sentiment_shifts.
--
-- A pair is "with" the kind when at least one such event lies between its two opinions.
-- Down-shift rates divide by the pairs that could shift down (the earlier opinion positive
-- or neutral), up-shift rates by the pairs that could shift up (earlier negative or
-- neutral). lift = rate with / rate without; rate_diff = rate with - rate without, with
-- the Wald 95 % interval diff +/- 1.96 * sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2). The
-- counts stay in the table so a BI tool can sum months and recompute every ratio.
{%- set kinds = sentiment_interaction_kinds() %}

with shifts as (
    select
        month_start,
        {%- for kind in kinds %}
        {{ kind }},
        {%- endfor %}
        case when from_sentiment <> 'negative' then 1 else 0 end as can_go_down,
        case when from_sentiment <> 'positive' then 1 else 0 end as can_go_up,
        case when direction = 'down' then 1 else 0 end as is_down,
        case when direction = 'up' then 1 else 0 end as is_up
    from {{ ref('fct_sentiment_shifts') }}
),

counted as (
    {%- for kind in kinds %}
    select
        month_start,
        '{{ kind }}' as interaction_kind,
        cast(sum(case when {{ kind }} > 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as pairs_with,
        cast(sum(case when {{ kind }} > 0 then 0 else 1 end) as {{ dbt.type_bigint() }}) as pairs_without,
        cast(sum(case when {{ kind }} > 0 then can_go_down else 0 end) as {{ dbt.type_bigint() }})
            as down_eligible_with,
        cast(sum(case when {{ kind }} > 0 then 0 else can_go_down end) as {{ dbt.type_bigint() }})
            as down_eligible_without,
        cast(sum(case when {{ kind }} > 0 then is_down else 0 end) as {{ dbt.type_bigint() }}) as down_shifts_with,
        cast(sum(case when {{ kind }} > 0 then 0 else is_down end) as {{ dbt.type_bigint() }}) as down_shifts_without,
        cast(sum(case when {{ kind }} > 0 then can_go_up else 0 end) as {{ dbt.type_bigint() }}) as up_eligible_with,
        cast(sum(case when {{ kind }} > 0 then 0 else can_go_up end) as {{ dbt.type_bigint() }}) as up_eligible_without,
        cast(sum(case when {{ kind }} > 0 then is_up else 0 end) as {{ dbt.type_bigint() }}) as up_shifts_with,
        cast(sum(case when {{ kind }} > 0 then 0 else is_up end) as {{ dbt.type_bigint() }}) as up_shifts_without
    from shifts
    group by month_start
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    month_start,
    interaction_kind,
    pairs_with,
    pairs_without
    {%- for way in ['down', 'up'] %},
    {{ way }}_eligible_with,
    {{ way }}_eligible_without,
    {{ way }}_shifts_with,
    {{ way }}_shifts_without,
    {{ safe_divide(way ~ '_shifts_with', way ~ '_eligible_with') }} as {{ way }}_rate_with,
    {{ safe_divide(way ~ '_shifts_without', way ~ '_eligible_without') }} as {{ way }}_rate_without,
    {{ safe_divide(safe_divide(way ~ '_shifts_with', way ~ '_eligible_with'),
        safe_divide(way ~ '_shifts_without', way ~ '_eligible_without')) }} as {{ way }}_lift,
    {{ safe_divide(way ~ '_shifts_with', way ~ '_eligible_with') }}
    - {{ safe_divide(way ~ '_shifts_without', way ~ '_eligible_without') }} as {{ way }}_rate_diff,
    {{ wald_diff_bound(
        way ~ '_shifts_with', way ~ '_eligible_with', way ~ '_shifts_without', way ~ '_eligible_without', 'low'
    ) }} as {{ way }}_rate_diff_ci_low,
    {{ wald_diff_bound(
        way ~ '_shifts_with', way ~ '_eligible_with', way ~ '_shifts_without', way ~ '_eligible_without', 'high'
    ) }} as {{ way }}_rate_diff_ci_high{% endfor %}
from counted
