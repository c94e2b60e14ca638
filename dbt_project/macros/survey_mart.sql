{#- The survey marts (mart_nps_daily, mart_csat_daily, mart_ces_daily) share one shape: the
    responses of one survey type from int_survey_responses_scored, counted per response date x
    customer segment x survey channel. Every count is additive: sum it over any slice and
    recompute the ratio from the sums. -#}

{#- survey_responses_counted(survey_type, measures): two CTEs, `responses` (the import: one row
    per response of that survey type) and `counted` (response_date, segment, survey_channel,
    responses = count of responses, then one column per (name, aggregate expression) in
    `measures`, in their order). Call it after `with`. -#}
{% macro survey_responses_counted(survey_type, measures) -%}
responses as (
    select * from {{ ref('int_survey_responses_scored') }}
    where survey_type = '{{ survey_type }}'
),

counted as (
    select
        response_date,
        segment,
        survey_channel,
        count(*) as responses,
        {%- for column, expression in measures %}
        {{ expression }} as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from responses
    group by response_date, segment, survey_channel
)
{%- endmacro %}

{#- survey_share_mart(survey_type, flag_column, count_column, pct_column): a whole model for a
    survey scored as a share of good answers (CSAT: satisfied, CES: low effort). Columns:
    response_date, segment, survey_channel, responses, <count_column> (responses whose boolean
    `flag_column` is true), score_sum (sum of the scores), <pct_column> = 100 x <count_column>
    / responses and avg_score = score_sum / responses, both rounded to 4 decimal places. -#}
{% macro survey_share_mart(survey_type, flag_column, count_column, pct_column) -%}
with {{ survey_responses_counted(survey_type, [
    (count_column, "count(case when " ~ flag_column ~ " then 1 end)"),
    ("score_sum", "cast(sum(score) as " ~ dbt.type_bigint() ~ ")"),
]) }},

scored as (
    select
        response_date,
        segment,
        survey_channel,
        responses,
        {{ count_column }},
        score_sum,
        round(100.0 * {{ safe_divide(count_column, "responses") }}, 4) as {{ pct_column }},
        round({{ safe_divide("score_sum", "responses") }}, 4) as avg_score
    from counted
)

select * from scored
{%- endmacro %}
