/// The clinic administrator's pages.
enum AdministrationTemplates {
    static let all: [String: String] = ["users": users, "user": user, "audit": audit, "break-glass": breakGlass, "mail": mail, "mail-template": mailTemplate]

    static let mail = #"""
{{<layout}}
{{$title}}Emails{{/title}}
{{$main}}
<h1>Emails</h1>
<h2>What the clinic's emails say</h2>
<table>
<caption class="hint">Each email in the clinic's own wording, or the built-in one</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Sent</th><th scope="col">Wording</th></tr></thead>
<tbody>
{{#templates}}<tr><td><a href="/app/mail/templates/{{name}}">{{name}}</a></td><td>{{summary}}</td><td>{{#customized}}The clinic's own{{/customized}}{{^customized}}Built-in{{/customized}}</td></tr>
{{/templates}}
</tbody>
</table>
<h2>Sent lately</h2>
{{^empty(mail)}}<table>
<caption class="hint">The latest emails, newest first, with the mail server's last answer</caption>
<thead><tr><th scope="col">Queued</th><th scope="col">Email</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Server's answer</th><th scope="col">Sent</th></tr></thead>
<tbody>
{{/empty(mail)}}
{{#mail}}<tr><td>{{created}}</td><td>{{template}}</td><td><span class="status">{{status}}</span></td><td>{{attempts}}</td><td>{{reply}}</td><td>{{sent}}</td></tr>
{{/mail}}
{{^empty(mail)}}</tbody>
</table>
{{/empty(mail)}}
{{^mail}}<p>No emails yet.</p>{{/mail}}
{{/main}}
{{/layout}}
"""#

    static let mailTemplate = #"""
{{<layout}}
{{$title}}Email: {{name}}{{/title}}
{{$main}}
<h1>Email: {{name}}</h1>
<p>{{summary}}. {{#customized}}It uses the clinic's own wording.{{/customized}}{{^customized}}It uses the built-in wording.{{/customized}}</p>
{{>form-errors}}
<form method="post" action="/app/mail/templates/{{name}}" novalidate class="panel">
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit" name="action" value="preview">Preview</button>
<button type="submit" name="action" value="save">Save the wording</button>
</form>
{{#preview}}
<section class="panel" aria-labelledby="preview-heading">
<h2 id="preview-heading">Preview with sample values</h2>
<p><strong>Subject:</strong> {{subject}}</p>
<h3>Plain text</h3>
<pre class="preview">{{text}}</pre>
<h3>HTML source</h3>
<pre class="preview">{{html}}</pre>
</section>
{{/preview}}
{{#customized}}
<form method="post" action="/app/mail/templates/{{name}}" class="no-print">
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<button type="submit" name="action" value="reset">Go back to the built-in wording</button>
</form>
{{/customized}}
<p><a href="/app/mail">All emails</a></p>
{{/main}}
{{/layout}}
"""#

    static let audit = #"""
{{<layout}}
{{$title}}Audit trail{{/title}}
{{$main}}
<h1>Audit trail</h1>
{{>form-errors}}
<form method="get" action="/app/audit" class="panel" role="search" aria-label="Filter the audit trail">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Filter</button>
<a class="button secondary" href="/app/audit/export?{{query}}">Export as CSV</a>
</form>
<p>{{summary}}</p>
{{^empty(events)}}
<table>
<thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Patient</th><th scope="col">Outcome</th><th scope="col">Reason</th></tr></thead>
<tbody>
{{/empty(events)}}
{{#events}}<tr><td>{{seq}}</td><td>{{time}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{resource}}</td><td>{{#patientID}}<a href="/app/audit?patient_id={{patientID}}">{{patientID}}</a>{{/patientID}}</td><td>{{outcome}}</td><td>{{reason}}</td></tr>
{{/events}}
{{^empty(events)}}
</tbody>
</table>
{{/empty(events)}}
{{#older}}<p><a href="/app/audit?{{older}}">Older events</a></p>{{/older}}
{{/main}}
{{/layout}}
"""#

    static let breakGlass = #"""
{{<layout}}
{{$title}}Emergency access{{/title}}
{{$main}}
<h1>Emergency access</h1>
<div class="panel">
<p>Your roles do not include reading patient records. In an emergency you may open this patient's record for {{minutes}} minutes. Say why: the access and your reason are recorded, and your clinic's auditors review every emergency access.</p>
{{>form-errors}}
<form method="post" action="/app/patients/{{patientID}}/break-glass" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit">Open the record</button>
</form>
</div>
{{/main}}
{{/layout}}
"""#

    static let users = #"""
{{<layout}}
{{$title}}Users and roles{{/title}}
{{$main}}
<h1>Users and roles</h1>
{{>form-errors}}
<h2>Users</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Status</th></tr></thead>
<tbody>
{{#users}}<tr><td><a href="/app/users/{{id}}">{{name}}</a></td><td>{{email}}</td><td>{{roles}}</td><td><span class="status">{{status}}</span></td></tr>
{{/users}}
</tbody>
</table>
<section class="panel" aria-labelledby="add-user-heading">
<h2 id="add-user-heading">Add a user</h2>
<p>The new user gets no password: give them the set-password link shown next, valid for 72 hours.</p>
<form method="post" action="/app/users" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Add the user</button>
</form>
</section>
<h2>Roles</h2>
<table>
<thead><tr><th scope="col">Role</th><th scope="col">Permissions</th><th scope="col">Second factor</th></tr></thead>
<tbody>
{{#roles}}<tr><td>{{name}}</td><td>{{permissions}}</td><td>{{secondFactor}}</td></tr>
{{/roles}}
</tbody>
</table>
{{/main}}
{{/layout}}
"""#

    static let user = #"""
{{<layout}}
{{$title}}{{name}}{{/title}}
{{$main}}
<h1>{{name}}</h1>
{{>form-errors}}
{{#link}}
<div class="notice" role="status">
<p>Give {{name}} this link to set their password. It works once, until {{linkExpires}} (the clinic's time):</p>
<p><code>{{link}}</code></p>
</div>
{{/link}}
<dl class="details panel">
<dt>Email</dt><dd>{{email}}</dd>
<dt>Status</dt><dd>{{status}}</dd>
<dt>Last sign-in</dt><dd>{{lastLogin}}</dd>
</dl>
<section class="panel" aria-labelledby="roles-heading">
<h2 id="roles-heading">Roles</h2>
<ul>
{{#roles}}<li>{{name}} <form method="post" action="/app/users/{{userID}}/roles/remove" class="inline"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><input type="hidden" name="role" value="{{name}}"><button type="submit" class="secondary">Remove {{name}}</button></form></li>
{{/roles}}
</ul>
{{^roles}}<p>No role: this user can sign in but open nothing.</p>{{/roles}}
<form method="post" action="/app/users/{{id}}/roles/add" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
{{#roleFields}}{{>field}}{{/roleFields}}
<button type="submit">Add the role</button>
</form>
</section>
<section class="panel" aria-labelledby="account-heading">
<h2 id="account-heading">Account</h2>
{{#locked}}<form method="post" action="/app/users/{{id}}/unlock" class="inline"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit">Unlock</button></form>{{/locked}}
<form method="post" action="/app/users/{{id}}/password-link" class="inline"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit" class="secondary">Create a set-password link</button></form>
{{#active}}<form method="post" action="/app/users/{{id}}/disable" class="inline"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit" class="secondary">Disable (ends their sessions)</button></form>{{/active}}
{{^active}}<form method="post" action="/app/users/{{id}}/enable" class="inline"><input type="hidden" name="_csrf" value="{{shell.formToken}}"><button type="submit">Enable</button></form>{{/active}}
</section>
<p><a href="/app/users">All users</a></p>
{{/main}}
{{/layout}}
"""#
}
