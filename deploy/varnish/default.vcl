# Varnish in front of `web`: caches public pages, API answers and feeds, and drops them
# when the publish pipeline sends PURGE (publishing/pipeline/purge.py, one request per
# URL, after our own caches are invalidated and before anyone is notified).
#
# The app marks what may be shared: `Cache-Control: public, max-age=0, must-revalidate`
# (browsers and partners revalidate every time). Here such answers are kept for an hour,
# because every change purges the URLs it affects; anything private, personal (a cookie
# or an Authorization header on the request, a Set-Cookie on the answer) or not a GET
# is passed straight through. Pages that merely mention a changed page (related posts,
# promotions) are not purged by URL: TTL_OTHER caps how long they lag.
vcl 4.1;

backend default {
    .host = "web";
    .port = "8000";
}

# Who may purge. Loopback, plus the private ranges a compose network uses: narrow these
# to your web hosts' addresses in other deployments.
acl purgers {
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
    "192.168.0.0"/16;
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (!client.ip ~ purgers) {
            return (synth(403, "Not allowed to purge"));
        }
        # Every cached variant of the path (any query string), on this host.
        ban("obj.http.x-cache-host == " + req.http.host +
            " && obj.http.x-cache-path == " + regsub(req.url, "\?.*$", ""));
        return (synth(200, "Purged"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url ~ "^/(admin|django-admin)(/|$)" || req.http.Authorization || req.http.Cookie) {
        return (pass);
    }
    return (hash);
}

sub vcl_backend_response {
    # What the ban above matches on (kept off the client's answer in vcl_deliver).
    set beresp.http.x-cache-host = bereq.http.host;
    set beresp.http.x-cache-path = regsub(bereq.url, "\?.*$", "");
    if (beresp.http.Set-Cookie || beresp.http.Cache-Control ~ "(private|no-store|no-cache)"
            || beresp.http.Cache-Control !~ "public" || beresp.status >= 500) {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # Purged on change; a page that only mentions a changed one catches up within this.
    set beresp.ttl = 1h;
    if (bereq.url !~ "^/api/" && bereq.url !~ "^/feeds/") {
        set beresp.ttl = 5m;
    }
    # Never serve a purged or expired copy while fetching a new one.
    set beresp.grace = 0s;
    return (deliver);
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-CDN-Cache = "hit";
    } else {
        set resp.http.X-CDN-Cache = "miss";
    }
    unset resp.http.x-cache-host;
    unset resp.http.x-cache-path;
}
