-- One row per response date x customer segment x survey channel, NPS surveys only.
-- NPS = 100 x (promoters - detractors) / responses, categories recomputed from the 0-10 score.
-- Margin of error (95 %) = 1.96 x 100 x sqrt((p + d - (p - d)^2) / n), p and d the promoter
-- and detractor shares. Counts are additive: sum them over any slice and recompute NPS from
-- the sums. The responses and counted CTEs: macros/survey_mart.sql (shared with CSAT and CES).
with {{ survey_responses_counted("NPS", [
    ("promoters", "sum(case when nps_category = 'promoter' then 1 else 0 end)"),
    ("passives", "sum(case when nps_category = 'passive' then 1 else 0 end)"),
    ("detractors", "sum(case when nps_category = 'detractor' then 1 else 0 end)"),
]) }},

shares as (
    select
        counted.*,
        cast(promoters as {{ type_double() }}) / responses as promoter_share,
        cast(detractors as {{ type_double() }}) / responses as detractor_share
    from counted
),

scored as (
    select
        response_date,
        segment,
        survey_channel,
        responses,
        promoters,
        passives,
        detractors,
        100.0 * (promoters - detractors) / responses as nps,
        round(1.96 * 100.0 * sqrt(
            (promoter_share + detractor_share - (promoter_share - detractor_share) * (promoter_share - detractor_share))
            / responses
        ), 4) as nps_margin_of_error
    from shares
)

select * from scored
