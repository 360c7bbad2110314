{#- The read-only role BI tools log in through (or are granted): it may read the marts schema
    and nothing else. Created when missing, if the dbt user may create roles; otherwise an
    administrator creates it once (`create role bi_reader nologin`). -#}
{% macro ensure_bi_reader() %}
    {% if target.type == 'postgres' %}
    do $$
    begin
        if not exists (select from pg_roles where rolname = 'bi_reader') then
            if exists (select from pg_roles where rolname = current_user
                       and (rolcreaterole or rolsuper)) then
                create role bi_reader nologin;
            else
                raise notice 'role bi_reader is missing and % may not create it', current_user;
                return;
            end if;
        end if;
        create schema if not exists marts;
        grant usage on schema marts to bi_reader;
    end
    $$;
    {% endif %}
{% endmacro %}
