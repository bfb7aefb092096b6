function rolesIntoTokens(user, context, callback) {
  const namespace = 'https://demo.example.com/';
  const assignedRoles = (context.authorization || {}).roles;
  context.idToken[namespace + 'roles'] = assignedRoles;
  context.accessToken[namespace + 'roles'] = assignedRoles;
  callback(null, user, context);
}
