-- One row per response date x customer segment x survey channel (CONTRACT §3).
-- CES % = 100 x low effort / responses, low effort = score 5-7 on the 1-7 scale (recomputed
-- from the score in int_survey_responses_scored, never the vendor's label).
-- Counts and score_sum are additive: sum them over any slice and recompute
-- ces_pct = 100 x low_effort_responses / responses and avg_score = score_sum / responses.
with responses as (
    select * from {{ ref('int_survey_responses_scored') }}
    where survey_type = 'CES'
),

counted as (
    select
        response_date,
        segment,
        survey_channel,
        count(*) as responses,
        count(case when is_low_effort then 1 end) as low_effort_responses,
        cast(sum(score) as {{ dbt.type_bigint() }}) as score_sum
    from responses
    group by response_date, segment, survey_channel
),

scored as (
    select
        response_date,
        segment,
        survey_channel,
        responses,
        low_effort_responses,
        score_sum,
        round(100.0 * {{ safe_divide('low_effort_responses', 'responses') }}, 4) as ces_pct,
        round({{ safe_divide('score_sum', 'responses') }}, 4) as avg_score
    from counted
)

select * from scored
