{#- EUR per unit of `currency` in a month: the rate read from fx_rates_monthly (`rate`), and
    1 for EUR itself, the unit of that table, in every month (its rows start in 2015, an EUR
    order of 1997 still has a rate). -#}
{% macro eur_per_unit(currency, rate) -%}
    case when {{ currency }} = 'EUR' then cast(1 as {{ type_double() }}) else {{ rate }} end
{%- endmacro %}
