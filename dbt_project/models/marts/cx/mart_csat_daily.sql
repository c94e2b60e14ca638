-- One row per response date x customer segment x survey channel (CONTRACT §3).
-- CSAT % = 100 x satisfied / responses, satisfied = score 4-5 on the 1-5 scale (recomputed
-- from the score in int_survey_responses_scored, never the vendor's label).
-- Counts and score_sum are additive: sum them over any slice and recompute
-- csat_pct = 100 x satisfied_responses / responses and avg_score = score_sum / responses.
with responses as (
    select * from {{ ref('int_survey_responses_scored') }}
    where survey_type = 'CSAT'
),

counted as (
    select
        response_date,
        segment,
        survey_channel,
        count(*) as responses,
        count(case when is_satisfied then 1 end) as satisfied_responses,
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
        satisfied_responses,
        score_sum,
        round(100.0 * {{ safe_divide('satisfied_responses', 'responses') }}, 4) as csat_pct,
        round({{ safe_divide('score_sum', 'responses') }}, 4) as avg_score
    from counted
)

select * from scored
