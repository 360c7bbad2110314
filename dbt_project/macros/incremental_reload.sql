{#- The where clause of an incremental model's nightly read: the days a night may have reloaded,
    from `incremental_reload_days` before the newest day the model already holds (reruns and the
    sources' restatement windows). Nothing on a full build. -#}
{% macro reloaded_days_only(date_column) %}
    {%- if is_incremental() %}
    where {{ date_column }} >= (
        select {{ dbt.dateadd(
            'day',
            -var('incremental_reload_days'),
            "coalesce(max(" ~ date_column ~ "), date '1900-01-01')",
        ) }}
        from {{ this }}
    )
    {%- endif %}
{% endmacro %}
