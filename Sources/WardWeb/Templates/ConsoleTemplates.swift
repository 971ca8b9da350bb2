/// The console: the control plane's tenants and their provisioning.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "console-sign-in": signIn, "console-tenants": tenants, "console-new": newTenant, "console-tenant": tenant, "console-steps": steps,
    ]

    static let signIn = #"""
{{<layout}}
{{$title}}Console sign-in{{/title}}
{{$main}}
<div class="panel narrow">
<h1>Console sign-in</h1>
<p>For the administrators of this Ward installation. Clinic staff sign in at <a href="/app/sign-in">/app</a>.</p>
{{>form-errors}}
<form method="post" action="/console/sign-in" novalidate>
<input type="hidden" name="_csrf" value="{{formToken}}">
<input type="hidden" name="next" value="{{next}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit">Sign in</button>
</form>
</div>
{{/main}}
{{/layout}}
"""#

    static let tenants = #"""
{{<layout}}
{{$title}}Tenants{{/title}}
{{$main}}
<h1>Tenants</h1>
<p><a class="button secondary" href="/console/tenants/new">Provision a tenant</a></p>
<table>
<thead><tr><th scope="col">Clinic</th><th scope="col">Slug</th><th scope="col">Status</th><th scope="col">Time zone</th><th scope="col">Created</th></tr></thead>
<tbody>
{{#tenants}}<tr><td><a href="/console/tenants/{{slug}}">{{name}}</a></td><td>{{slug}}</td><td><span class="status">{{status}}</span></td><td>{{timeZone}}</td><td>{{created}}</td></tr>
{{/tenants}}
</tbody>
</table>
{{^tenants}}<p>No tenants yet.</p>{{/tenants}}
{{/main}}
{{/layout}}
"""#

    static let newTenant = #"""
{{<layout}}
{{$title}}Provision a tenant{{/title}}
{{$main}}
<h1>Provision a tenant</h1>
<p>The clinic's database is created and migrated, its roles and formulary seeded, and its first administrator invited by email. The steps are shown as they run.</p>
{{>form-errors}}
<form method="post" action="/console/tenants" class="panel" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Provision</button>
</form>
{{/main}}
{{/layout}}
"""#

    static let tenant = #"""
{{<layout}}
{{$title}}{{name}}{{/title}}
{{$main}}
<h1>{{name}}</h1>
{{>form-errors}}
<dl class="details panel">
<dt>Slug</dt><dd>{{slug}}</dd>
<dt>Time zone</dt><dd>{{timeZone}}</dd>
<dt>Created</dt><dd>{{created}}</dd>
</dl>
<section aria-labelledby="steps-heading">
<h2 id="steps-heading">Status and provisioning steps</h2>
<div id="steps" aria-live="polite"{{^final}} data-refresh="/console/tenants/{{slug}}?partial=1"{{/final}}>
{{>console-steps}}
</div>
{{^final}}<p class="no-print"><a href="/console/tenants/{{slug}}">Refresh</a></p>{{/final}}
</section>
<section class="panel" aria-labelledby="actions-heading">
<h2 id="actions-heading">Actions</h2>
{{#canRetry}}<form method="post" action="/console/tenants/{{slug}}/retry"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit">Retry provisioning</button></form>{{/canRetry}}
{{#canSuspend}}<form method="post" action="/console/tenants/{{slug}}/suspend"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit" class="secondary">Suspend</button></form>{{/canSuspend}}
{{#canResume}}<form method="post" action="/console/tenants/{{slug}}/resume"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit">Resume</button></form>{{/canResume}}
{{#canDelete}}
<form method="post" action="/console/tenants/{{slug}}/delete">
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
{{#deleteFields}}{{>field}}{{/deleteFields}}
<button type="submit" class="secondary">Delete</button>
</form>
{{/canDelete}}
{{^anyAction}}<p>No action applies while the tenant is {{status}}.</p>{{/anyAction}}
</section>
{{/main}}
{{/layout}}
"""#

    static let steps = #"""
<p>Status: <span class="status">{{status}}</span>{{#lastError}}. Last error: {{lastError}}{{/lastError}}</p>
{{#final}}<span data-final hidden></span>{{/final}}
{{^empty(steps)}}
<table>
<thead><tr><th scope="col">Step</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">Took</th><th scope="col">Error</th></tr></thead>
<tbody>
{{/empty(steps)}}
{{#steps}}<tr><td>{{step}}</td><td>{{attempt}}</td><td>{{outcome}}</td><td>{{took}}</td><td>{{error}}</td></tr>
{{/steps}}
{{^empty(steps)}}
</tbody>
</table>
{{/empty(steps)}}
{{#empty(steps)}}<p>No step has run yet.</p>{{/empty(steps)}}
"""#
}
