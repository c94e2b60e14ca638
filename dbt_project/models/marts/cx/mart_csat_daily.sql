-- One row per response date x customer segment x survey channel, CSAT surveys only.
-- CSAT % = 100 x satisfied / responses, satisfied = score 4-5 on the 1-5 scale (recomputed
-- from the score in int_survey_responses_scored, never the vendor's label).
-- Counts and score_sum are additive: sum them over any slice and recompute
-- csat_pct = 100 x satisfied_responses / responses and avg_score = score_sum / responses.
-- Same shape as mart_ces_daily: macros/survey_mart.sql.
{{ survey_share_mart(
    survey_type="CSAT",
    flag_column="is_satisfied",
    count_column="satisfied_responses",
    pct_column="csat_pct",
) }}
