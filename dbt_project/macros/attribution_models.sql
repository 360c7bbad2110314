{#- The attribution models fct_attribution computes, in one place for every model that lists them. -#}
{% macro attribution_models() %}
    {{ return(['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'w_shaped']) }}
{% endmacro %}
