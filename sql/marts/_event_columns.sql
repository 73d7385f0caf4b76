-- The columns of an event as staging.events has them, but the customer's.
event_id, event_ts, anonymous_id, session_id, event_type, product_id, search_query, page_url, referrer, device, os, country, properties
