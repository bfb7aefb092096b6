function rolesIntoTokens(user, context, callback) {
  const namespace = 'https://example.com/';
  const assignedRoles = (context.authorization || {}).roles;
  context.idToken[namespace + 'roles'] = assignedRoles;
  context.accessToken[namespace + 'roles'] = assignedRoles;
  context.idToken[namespace + 'plan'] = configuration.PLAN;
  callback(null, user, context);
}
