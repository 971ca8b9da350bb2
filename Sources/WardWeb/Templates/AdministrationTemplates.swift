/// The clinic administrator's pages.
enum AdministrationTemplates {
    static let all: [String: String] = ["users": users]

    static let users = #"""
{{<layout}}
{{$title}}Users and roles{{/title}}
{{$main}}
<h1>Users and roles</h1>
<h2>Users</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Status</th></tr></thead>
<tbody>
{{#users}}<tr><td>{{name}}</td><td>{{email}}</td><td>{{roles}}</td><td><span class="status">{{status}}</span></td></tr>
{{/users}}
</tbody>
</table>
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
}
