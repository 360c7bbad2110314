{#- What dbt's own cross-database macros (dbt.dateadd, dbt.bool_or, dbt.split_part, dbt.hash,
    dbt.listagg, dbt.date_trunc, dbt.type_*...) do not cover. The raw tables keep each API
    object whole (PostgreSQL jsonb, DuckDB json); the models read it only through these macros,
    so they are the one place that knows a warehouse's JSON syntax. To run on another warehouse,
    add an `<adapter>__` version of each macro that stops with "has no version of". -#}

{#- A JSON field as text. `path` is a list of object keys and array positions, e.g.
    json_text('payload', ['properties', 'email']) or json_text('payload', ['pivotValues', 0]). -#}
{% macro json_text(column, path) %}
    {{- return(adapter.dispatch('json_text', 'closedloop')(column, path)) -}}
{% endmacro %}

{#- A JSON field as JSON (an object or array to read further or to unnest). -#}
{% macro json_value(column, path) %}
    {{- return(adapter.dispatch('json_value', 'closedloop')(column, path)) -}}
{% endmacro %}

{#- A join clause giving one row per element of a JSON array, named `alias`; no rows when the
    array is missing or null. -#}
{% macro json_array_rows(array, alias) %}
    {{- return(adapter.dispatch('json_array_rows', 'closedloop')(array, alias)) -}}
{% endmacro %}

{#- The timestamp type that keeps the instant (UTC offset), as the APIs give it. -#}
{% macro type_timestamp_tz() %}
    {{- return(adapter.dispatch('type_timestamp_tz', 'closedloop')()) -}}
{% endmacro %}

{#- Seconds since the Unix epoch to a timestamp with time zone. -#}
{% macro from_unix_seconds(seconds) %}
    {{- return(adapter.dispatch('from_unix_seconds', 'closedloop')(seconds)) -}}
{% endmacro %}

{#- Exact seconds (with fractions) from `start` to `end`. dbt.datediff counts whole units, and
    on PostgreSQL drops the offset first, which DST changes would skew. -#}
{% macro seconds_between(start, end) %}
    {{- return(adapter.dispatch('seconds_between', 'closedloop')(start, end)) -}}
{% endmacro %}

{#- The quotient of two integers, rounded toward zero (DuckDB's `/` returns a fraction). -#}
{% macro integer_division(dividend, divisor) %}
    {{- return(adapter.dispatch('integer_division', 'closedloop')(dividend, divisor)) -}}
{% endmacro %}

{#- A date from its year, month and day numbers. -#}
{% macro date_from_parts(year, month, day) %}
    {{- return(adapter.dispatch('date_from_parts', 'closedloop')(year, month, day)) -}}
{% endmacro %}


{#- PostgreSQL (jsonb) -#}

{#- Parenthesized, because the arrow operators bind less tightly than `like` or `=`. -#}
{% macro postgres__json_text(column, path) -%}
    ({{ column }}{% for step in path %} {{ '->>' if loop.last else '->' }} {{ _json_key(step) }}{% endfor %})
{%- endmacro %}

{% macro postgres__json_value(column, path) -%}
    ({{ column }}{% for step in path %} -> {{ _json_key(step) }}{% endfor %})
{%- endmacro %}

{% macro postgres__json_array_rows(array, alias) -%}
    cross join lateral jsonb_array_elements({{ array }}) as {{ alias }}
{%- endmacro %}

{% macro postgres__integer_division(dividend, divisor) -%}
    {{ dividend }} / {{ divisor }}
{%- endmacro %}

{% macro _json_key(step) -%}
    {%- if step is number -%}{{ step }}{%- else -%}'{{ step }}'{%- endif -%}
{%- endmacro %}


{#- DuckDB (json extension, JSONPath) -#}

{% macro duckdb__json_text(column, path) -%}
    ({{ column }} ->> '{{ _json_path(path) }}')
{%- endmacro %}

{% macro duckdb__json_value(column, path) -%}
    ({{ column }} -> '{{ _json_path(path) }}')
{%- endmacro %}

{% macro duckdb__json_array_rows(array, alias) -%}
    cross join lateral unnest(cast({{ array }} as json[])) as {{ alias }}_elements({{ alias }})
{%- endmacro %}

{% macro duckdb__integer_division(dividend, divisor) -%}
    {{ dividend }} // {{ divisor }}
{%- endmacro %}

{% macro _json_path(path) -%}
    ${% for step in path %}{% if step is number %}[{{ step }}]{% else %}.{{ step }}{% endif %}{% endfor %}
{%- endmacro %}


{#- What PostgreSQL and DuckDB share. -#}

{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro default__from_unix_seconds(seconds) -%}
    to_timestamp({{ seconds }})
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    extract(epoch from ({{ end }} - {{ start }}))
{%- endmacro %}

{% macro default__date_from_parts(year, month, day) -%}
    make_date({{ year }}, {{ month }}, {{ day }})
{%- endmacro %}


{#- Any other warehouse: say what to add rather than fail on SQL it cannot run. -#}

{% macro _no_version_for(macro_name) %}
    {{ exceptions.raise_compiler_error(
        "closedloop has no version of " ~ macro_name ~ " for the " ~ target.type ~ " adapter: add "
        ~ target.type ~ "__" ~ macro_name ~ " to dbt_project/macros/cross_database.sql") }}
{% endmacro %}

{% macro default__json_text(column, path) %}{{ _no_version_for('json_text') }}{% endmacro %}
{% macro default__json_value(column, path) %}{{ _no_version_for('json_value') }}{% endmacro %}
{% macro default__json_array_rows(array, alias) %}{{ _no_version_for('json_array_rows') }}{% endmacro %}
{% macro default__integer_division(dividend, divisor) %}{{ _no_version_for('integer_division') }}{% endmacro %}
